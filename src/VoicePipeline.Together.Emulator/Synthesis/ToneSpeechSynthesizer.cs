namespace VoicePipeline.Together.Emulator.Synthesis;

/// <summary>
/// A speech engine that costs next to nothing, for load tests: each word is <see cref="WordDuration"/> of a 440 Hz tone
/// at 24 kHz (the models' rate, so nothing is resampled), with word timings; the same text always gives the same
/// samples. Not speech: use <see cref="EspeakSpeechSynthesizer"/> where a recognizer must understand the audio.
/// </summary>
public sealed class ToneSpeechSynthesizer : ISpeechSynthesizer
{
    private const int SampleRate = 24_000;

    /// <summary>One second of the tone (a whole number of cycles, so slices of it join without a click).</summary>
    private static readonly short[] s_tone = Enumerable.Range(0, SampleRate)
        .Select(i => (short)(8000 * Math.Sin(2 * Math.PI * 440 * i / SampleRate))).ToArray();

    /// <summary>Gets how long each word sounds at speed 1.</summary>
    public TimeSpan WordDuration { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <inheritdoc />
    public SynthesisResult Synthesize(SynthesisRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var words = request.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var wordSamples = Math.Max(1, (int)(WordDuration.TotalSeconds * SampleRate / Math.Max(0.1, request.Speed)));
        var samples = new short[words.Length * wordSamples];
        for (var offset = 0; offset < samples.Length;)
        {
            var count = Math.Min(s_tone.Length, samples.Length - offset);
            s_tone.AsSpan(0, count).CopyTo(samples.AsSpan(offset));
            offset += count;
        }
        var timings = new SynthesizedWord[words.Length];
        for (var i = 0; i < words.Length; i++)
            timings[i] = new SynthesizedWord(words[i], TimeSpan.FromSeconds((double)i * wordSamples / SampleRate), TimeSpan.FromSeconds((double)(i + 1) * wordSamples / SampleRate));
        return new SynthesisResult(samples, SampleRate, timings);
    }
}
