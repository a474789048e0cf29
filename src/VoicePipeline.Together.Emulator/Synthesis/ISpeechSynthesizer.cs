namespace VoicePipeline.Together.Emulator.Synthesis;

/// <summary>
/// The speech engine behind the emulator's text-to-speech endpoints. Implementations must be thread-safe and
/// deterministic: the same request gives the same samples, so that <see cref="TogetherEmulator.Synthesize"/> matches what
/// the endpoints send.
/// </summary>
public interface ISpeechSynthesizer
{
    /// <summary>Synthesizes <paramref name="request"/>.</summary>
    /// <exception cref="NotSupportedException">The engine does not speak the language asked for (answered with 400 <c>unsupported_language</c>).</exception>
    SynthesisResult Synthesize(SynthesisRequest request);
}

/// <summary>What to synthesize.</summary>
/// <param name="Text">The text.</param>
/// <param name="Model">The Together model asked for.</param>
/// <param name="Voice">The Together voice asked for.</param>
/// <param name="Female">Whether the voice is a female one.</param>
/// <param name="British">Whether the voice speaks British English.</param>
/// <param name="Language">The language asked for, if any.</param>
/// <param name="Speed">The speed (1 is normal).</param>
public sealed record SynthesisRequest(string Text, string Model, string Voice, bool Female, bool British, string? Language, double Speed);

/// <summary>Synthesized speech: mono samples at any rate (the emulator resamples them) and word timings.</summary>
/// <param name="Samples">Mono 16-bit samples.</param>
/// <param name="SampleRate">Their rate.</param>
/// <param name="Words">The words with their times from the start of the audio.</param>
public sealed record SynthesisResult(short[] Samples, int SampleRate, IReadOnlyList<SynthesizedWord> Words);

/// <summary>A word and where it is in the audio.</summary>
/// <param name="Word">The word.</param>
/// <param name="Start">When it starts.</param>
/// <param name="End">When it ends.</param>
public sealed record SynthesizedWord(string Word, TimeSpan Start, TimeSpan End);
