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

    /// <summary>Gets or sets how many attempts one (re)connection may make; the service gives up after three times as many drops.</summary>
    public int MaxConnectAttempts { get; set; } = 3;

    /// <summary>Gets or sets how much untranscribed audio is kept for replay after a reconnect.</summary>
    public TimeSpan MaxReplay { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Gets or sets after how long without sending audio a keep-alive (100 ms of silence) is sent.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Creates a copy of these options.</summary>
    public RealtimeSttOptions Clone() => (RealtimeSttOptions)MemberwiseClone();
}
