namespace VoicePipeline.Services;

/// <summary>How a <see cref="RealtimeSttService"/> keeps its session: reconnects, replay, keep-alive, the end of the stream.</summary>
public sealed class RealtimeSttOptions
{
    /// <summary>Gets or sets how long an <see cref="Frames.EndFrame"/> waits, without progress, for outstanding final transcripts.</summary>
    public TimeSpan FinalTranscriptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets the first reconnect delay (exponential backoff with jitter from here).</summary>
    public TimeSpan ReconnectBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Gets or sets the largest reconnect delay.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Gets or sets how many attempts one (re)connection may make; the service gives up after three times as many drops
    /// in a row (a session that stayed up for <see cref="DropCountResetAfter"/> starts the count again).
    /// </summary>
    public int MaxConnectAttempts { get; set; } = 3;

    /// <summary>Gets or sets how much untranscribed audio is kept for replay after a reconnect.</summary>
    public TimeSpan MaxReplay { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Gets or sets how much audio is gathered into one send (0 to 1 s; 0, the default, sends every frame as it comes).
    /// Audio gathered is always sent before a commit, a live settings change and a graceful close, so the end of a turn
    /// is never late; a longer interval costs interim transcripts up to that much delay and saves messages (a server
    /// carrying hundreds of sessions sends a fifth as many at 100 ms).
    /// </summary>
    public TimeSpan AppendInterval { get; set; }

    /// <summary>Gets or sets after how long without sending audio a keep-alive (100 ms of silence) is sent.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Gets or sets how long a session must stay up to count as healthy: its drop is then the first again (reconnected
    /// at once, with the whole drop budget), so a long call survives occasional drops instead of using up its budget.
    /// </summary>
    public TimeSpan DropCountResetAfter { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Gets or sets how long a committed utterance may wait for its transcript while the provider sends nothing at all
    /// (no transcript, interim or error) before the session counts as stalled: it is replaced and every untranscribed
    /// utterance replayed, as after a drop (and counted as one). <see cref="Timeout.InfiniteTimeSpan"/> turns this off.
    /// </summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Creates a copy of these options.</summary>
    public RealtimeSttOptions Clone() => (RealtimeSttOptions)MemberwiseClone();

    /// <summary>Checks every setting once, where the service is built: a value out of range is an error naming it, never corrected.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public RealtimeSttOptions Validate()
    {
        Positive(FinalTranscriptTimeout, nameof(FinalTranscriptTimeout));
        Positive(ReconnectBaseDelay, nameof(ReconnectBaseDelay));
        Positive(KeepAliveInterval, nameof(KeepAliveInterval));
        Positive(DropCountResetAfter, nameof(DropCountResetAfter));
        if (ReconnectMaxDelay < ReconnectBaseDelay)
            throw new ArgumentOutOfRangeException(nameof(ReconnectMaxDelay), ReconnectMaxDelay, $"RealtimeSttOptions.ReconnectMaxDelay must be at least ReconnectBaseDelay ({ReconnectBaseDelay}).");
        if (MaxConnectAttempts < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxConnectAttempts), MaxConnectAttempts, "RealtimeSttOptions.MaxConnectAttempts must be at least 1.");
        if (MaxReplay < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(MaxReplay), MaxReplay, "RealtimeSttOptions.MaxReplay must not be negative.");
        if (StallTimeout <= TimeSpan.Zero && StallTimeout != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(StallTimeout), StallTimeout, "RealtimeSttOptions.StallTimeout must be more than zero, or infinite.");
        if (AppendInterval < TimeSpan.Zero || AppendInterval > TimeSpan.FromSeconds(1))
            throw new ArgumentOutOfRangeException(nameof(AppendInterval), AppendInterval, "RealtimeSttOptions.AppendInterval must be from 0 to 1 s.");
        return this;
    }

    private static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(name, value, $"RealtimeSttOptions.{name} must be more than zero.");
    }
}
