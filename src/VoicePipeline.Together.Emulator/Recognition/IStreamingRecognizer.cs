namespace VoicePipeline.Together.Emulator.Recognition;

/// <summary>
/// A speech recognizer for one session: audio of the current utterance goes in, a running hypothesis and, at the end
/// of the utterance, a final result come out. One instance per connection; not thread-safe.
/// </summary>
public interface IStreamingRecognizer : IDisposable
{
    /// <summary>Feeds 16 kHz mono samples of the current utterance.</summary>
    void AcceptAudio(ReadOnlySpan<short> samples);

    /// <summary>Returns the running hypothesis of the current utterance (empty when there is none yet).</summary>
    string GetPartialText();

    /// <summary>Ends the current utterance and returns its final result; the recognizer is then ready for the next one.</summary>
    RecognitionResult EndUtterance();
}

/// <summary>Creates one <see cref="IStreamingRecognizer"/> per session.</summary>
public interface IStreamingRecognizerFactory
{
    /// <summary>Creates a recognizer for a new session.</summary>
    IStreamingRecognizer Create(RecognizerSessionOptions options);
}

/// <summary>What a session asked for.</summary>
/// <param name="Model">The model named in the request.</param>
/// <param name="Language">The language (ISO-639-1), when set.</param>
/// <param name="Prompt">The prompt, when set.</param>
public sealed record RecognizerSessionOptions(string Model, string? Language = null, string? Prompt = null);

/// <summary>The final result of an utterance.</summary>
/// <param name="Text">The transcript (may be empty).</param>
/// <param name="Words">The words with their times relative to the start of the utterance.</param>
public sealed record RecognitionResult(string Text, IReadOnlyList<RecognizedWord> Words)
{
    /// <summary>An empty result.</summary>
    public static RecognitionResult Empty { get; } = new(string.Empty, []);
}

/// <summary>A recognized word and when it was said, relative to the start of its utterance.</summary>
public sealed record RecognizedWord(string Word, TimeSpan Start, TimeSpan End);
