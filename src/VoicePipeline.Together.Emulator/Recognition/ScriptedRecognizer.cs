namespace VoicePipeline.Together.Emulator.Recognition;

/// <summary>
/// A recognizer for tests: the n-th utterance of a session is transcribed as the n-th script line (or the fallback),
/// and its partial text grows word by word with the audio received. Records the audio it was given.
/// </summary>
public sealed class ScriptedRecognizerFactory(params string[] script) : IStreamingRecognizerFactory
{
    /// <summary>Gets the text used once the script runs out; <c>{n}</c> is replaced by the utterance number.</summary>
    public string Fallback { get; init; } = "utterance {n}";

    /// <summary>Gets how many samples of audio reveal one more word of a partial text.</summary>
    public int SamplesPerWord { get; init; } = 8000;

    /// <inheritdoc />
    public IStreamingRecognizer Create(RecognizerSessionOptions options) => new ScriptedRecognizer(this);

    private sealed class ScriptedRecognizer(ScriptedRecognizerFactory owner) : IStreamingRecognizer
    {
        private int _utterance;
        private long _samples;

        public void AcceptAudio(ReadOnlySpan<short> samples) => _samples += samples.Length;

        public string GetPartialText()
        {
            var words = Current().Split(' ');
            var shown = (int)Math.Min(words.Length, _samples / owner.SamplesPerWord);
            return string.Join(' ', words.Take(shown));
        }

        public RecognitionResult EndUtterance()
        {
            var text = _samples == 0 ? string.Empty : Current();
            var seconds = _samples / 16000.0;
            _utterance++;
            _samples = 0;
            var words = text.Length == 0 ? [] : text.Split(' ');
            var step = words.Length == 0 ? 0 : seconds / words.Length;
            return new RecognitionResult(text, words.Select((w, i) => new RecognizedWord(w, TimeSpan.FromSeconds(i * step), TimeSpan.FromSeconds((i + 1) * step))).ToArray());
        }

        public void Dispose()
        {
        }

        private string Current() => _utterance < owner.Length()
            ? owner.Line(_utterance)
            : owner.Fallback.Replace("{n}", (_utterance + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    private int Length() => script.Length;

    private string Line(int index) => script[index];
}
