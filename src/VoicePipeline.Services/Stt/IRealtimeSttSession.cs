using VoicePipeline.Frames;

namespace VoicePipeline.Services;

/// <summary>
/// The provider seam of a <see cref="RealtimeSttService"/>: one open streaming session (a WebSocket, say). Sends are
/// queued and never block the caller; events are read one at a time by the service.
/// </summary>
public interface IRealtimeSttSession : IAsyncDisposable
{
    /// <summary>Queues audio (PCM s16 mono at the service's <see cref="RealtimeSttService.SampleRate"/>); the span is not kept.</summary>
    void Append(ReadOnlySpan<short> samples);

    /// <summary>Queues the end of an utterance: the provider transcribes what was appended since the last commit.</summary>
    void Commit();

    /// <summary>Queues a live settings change (language, prompt); settings that need a new session are not passed here.</summary>
    void Update(SttSettings settings);

    /// <summary>Reads the next event; a <see cref="RealtimeSttEventKind.Closed"/> event when the session ended or broke.</summary>
    ValueTask<RealtimeSttEvent> ReceiveAsync(CancellationToken cancellationToken = default);

    /// <summary>Closes gracefully (bounded) once the queued sends went out; events still arrive until the provider closes.</summary>
    Task CloseAsync(TimeSpan timeout);
}

/// <summary>What a realtime session reports.</summary>
public enum RealtimeSttEventKind
{
    /// <summary>Something the service does not act on.</summary>
    Ignored,

    /// <summary>A running transcript of the oldest uncommitted or untranscribed utterance.</summary>
    Interim,

    /// <summary>The final transcript of the oldest committed utterance.</summary>
    Final,

    /// <summary>The oldest committed utterance could not be transcribed; the session goes on.</summary>
    TurnFailed,

    /// <summary>A non-fatal error the session survives.</summary>
    Error,

    /// <summary>The session is unusable and must be replaced.</summary>
    SessionFailed,

    /// <summary>The session closed or broke.</summary>
    Closed,
}

/// <summary>An event of a realtime speech-to-text session.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Text">The transcript, for <see cref="RealtimeSttEventKind.Interim"/> and <see cref="RealtimeSttEventKind.Final"/>.</param>
/// <param name="Language">The language the provider detected, when it says.</param>
/// <param name="Message">A description, for errors, failures and closes.</param>
/// <param name="Category">The error category, for errors and failures.</param>
public readonly record struct RealtimeSttEvent(RealtimeSttEventKind Kind, string? Text = null, string? Language = null, string? Message = null, ErrorCategory Category = ErrorCategory.Unknown)
{
    /// <summary>A closed session, with why.</summary>
    public static RealtimeSttEvent Closed(string reason) => new(RealtimeSttEventKind.Closed, Message: reason);
}
