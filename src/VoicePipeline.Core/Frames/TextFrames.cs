namespace VoicePipeline.Frames;

/// <summary>A piece of text: an LLM token run, a sentence to speak, a transcript.</summary>
public class TextFrame : DataFrame
{
    /// <summary>Creates a text frame.</summary>
    public TextFrame(string text) => Text = text ?? throw new ArgumentNullException(nameof(text));

    /// <summary>Gets the text.</summary>
    public string Text { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Name}(\"{Text}\")";
}

/// <summary>A running, not yet final, transcript of the current segment. It replaces the previous interim text.</summary>
public sealed class InterimTranscriptionFrame : TextFrame
{
    /// <summary>Creates an interim transcription.</summary>
    public InterimTranscriptionFrame(string text, string userId, DateTimeOffset timestamp, string? language = null)
        : base(text)
    {
        UserId = userId;
        Timestamp = timestamp;
        Language = language;
    }

    /// <summary>Gets the id of the speaking user.</summary>
    public string UserId { get; }

    /// <summary>Gets the wall-clock time the transcript was received.</summary>
    public DateTimeOffset Timestamp { get; }

    /// <summary>Gets the language (ISO-639-1), when known.</summary>
    public string? Language { get; }

    /// <summary>Gets the audio time at which the segment starts, when the service reports it.</summary>
    public TimeSpan? AudioStart { get; init; }

    /// <summary>Gets the audio time at which the segment ends, when the service reports it.</summary>
    public TimeSpan? AudioEnd { get; init; }
}

/// <summary>A transcript of a segment of user speech.</summary>
public sealed class TranscriptionFrame : TextFrame
{
    /// <summary>Creates a transcription.</summary>
    public TranscriptionFrame(string text, string userId, DateTimeOffset timestamp, string? language = null, bool finalized = false)
        : base(text)
    {
        UserId = userId;
        Timestamp = timestamp;
        Language = language;
        Finalized = finalized;
    }

    /// <summary>Gets the id of the speaking user.</summary>
    public string UserId { get; }

    /// <summary>Gets the wall-clock time the transcript was received.</summary>
    public DateTimeOffset Timestamp { get; }

    /// <summary>Gets the language (ISO-639-1), when known.</summary>
    public string? Language { get; }

    /// <summary>Gets whether this is the final transcript for the user's turn (no more text will follow for it).</summary>
    public bool Finalized { get; }

    /// <summary>Gets the audio time at which the segment starts, when known.</summary>
    public TimeSpan? AudioStart { get; init; }

    /// <summary>Gets the audio time at which the segment ends, when known.</summary>
    public TimeSpan? AudioEnd { get; init; }
}

/// <summary>
/// Text a text-to-speech service spoke: a word with its position in the utterance's audio when the service reports
/// word timings, otherwise the whole text once its audio was sent. Downstream aggregators learn what the user heard.
/// </summary>
public sealed class TtsTextFrame : TextFrame
{
    /// <summary>Creates a spoken-text frame.</summary>
    public TtsTextFrame(string text) : base(text) { }

    /// <summary>Gets where the word starts in its utterance's audio, when known.</summary>
    public TimeSpan? AudioStart { get; init; }

    /// <summary>Gets where the word ends in its utterance's audio, when known.</summary>
    public TimeSpan? AudioEnd { get; init; }

    /// <summary>Gets the id of the synthesis context, when the service has one.</summary>
    public string? ContextId { get; init; }
}
