using VoicePipeline.PocketSphinx;

namespace VoicePipeline.Together.Emulator.Recognition;

/// <summary>The emulator's default recognizer: one PocketSphinx decoder per session, offline, US English.</summary>
public sealed class PocketSphinxRecognizerFactory(PocketSphinxOptions? options = null) : IStreamingRecognizerFactory
{
    /// <inheritdoc />
    public IStreamingRecognizer Create(RecognizerSessionOptions session) => new PocketSphinxRecognizer(new PocketSphinxDecoder(options));

    private sealed class PocketSphinxRecognizer(PocketSphinxDecoder decoder) : IStreamingRecognizer
    {
        public void AcceptAudio(ReadOnlySpan<short> samples) => decoder.Process(samples);

        public string GetPartialText() => decoder.GetHypothesis();

        public RecognitionResult EndUtterance()
        {
            var (text, words) = decoder.EndUtterance();
            return new RecognitionResult(text, words.Select(w => new RecognizedWord(w.Word, w.Start, w.End)).ToArray());
        }

        public void Dispose() => decoder.Dispose();
    }
}
