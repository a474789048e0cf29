using VoicePipeline.EspeakNg;

namespace VoicePipeline.Together.Emulator.Synthesis;

/// <summary>
/// The emulator's default speech engine: espeak-ng, offline. Female voices speak with the <c>f3</c> variant, British
/// voices (Kokoro's <c>bf_*</c>/<c>bm_*</c>) with <c>en-gb</c>; another language uses espeak-ng's voice for it. Speed 1
/// is 175 words per minute.
/// </summary>
public sealed class EspeakSpeechSynthesizer : ISpeechSynthesizer
{
    private readonly EspeakSynthesizer _espeak = new();

    /// <summary>The espeak-ng voice that speaks for <paramref name="request"/>.</summary>
    public static string EspeakVoice(SynthesisRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var language = request.Language;
        var voice = language is null or "" || language.StartsWith("en", StringComparison.OrdinalIgnoreCase)
            ? request.British ? "en-gb" : "en-us"
            : language.ToLowerInvariant();
        return request.Female ? voice + "+f3" : voice;
    }

    /// <inheritdoc />
    public SynthesisResult Synthesize(SynthesisRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var voice = EspeakVoice(request);
        EspeakSpeech speech;
        try
        {
            speech = _espeak.Synthesize(request.Text, voice, (int)Math.Round(EspeakSynthesizer.DefaultWordsPerMinute * request.Speed));
        }
        catch (EspeakException exception) when (request.Language is { Length: > 0 } language && !language.StartsWith("en", StringComparison.OrdinalIgnoreCase))
        {
            throw new NotSupportedException($"espeak-ng does not speak '{language}': {exception.Message}", exception);
        }
        return new SynthesisResult(speech.Samples, speech.SampleRate, speech.Words.Select(w => new SynthesizedWord(w.Text, w.Start, w.End)).ToArray());
    }
}
