using VoicePipeline.Together.Client;

namespace VoicePipeline.Together.Realtime;

/// <summary>Settings of a <see cref="TogetherSttService"/>.</summary>
public sealed class TogetherSttOptions
{
    /// <summary>The default transcription model.</summary>
    public const string DefaultModel = "openai/whisper-large-v3";

    /// <summary>
    /// Gets or sets the API key. Never logged. Nothing reads the environment here: configuration does (the
    /// <c>TOGETHER_API_KEY</c> variable or <c>Together:ApiKey</c>, through <c>AddVoicePipeline().AddTogether()</c>).
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>Gets or sets the API base URL; <c>http(s)</c> maps to <c>ws(s)</c>.</summary>
    public Uri BaseUrl { get; set; } = TogetherClientOptions.DefaultBaseUrl;

    /// <summary>Gets or sets the model.</summary>
    public string Model { get; set; } = DefaultModel;

    /// <summary>Gets or sets the language (ISO-639-1), or null to let the model detect it.</summary>
    public string? Language { get; set; }

    /// <summary>Gets or sets a prompt that guides Whisper models.</summary>
    public string? Prompt { get; set; }

    /// <summary>Gets or sets the user id put on transcription frames.</summary>
    public string UserId { get; set; } = "user";

    /// <summary>Gets or sets how long to wait for <c>session.created</c> after the handshake (more than 0, at most a day).</summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how long an <see cref="Frames.EndFrame"/> waits for outstanding final transcripts (more than 0, at most a day).</summary>
    public TimeSpan FinalTranscriptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets the first reconnect delay (jittered exponential backoff from here; 0 to 1 day).</summary>
    public TimeSpan ReconnectBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Gets or sets the largest reconnect delay (at least <see cref="ReconnectBaseDelay"/>, more than 0, at most a day).</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Gets or sets how many connection attempts one (re)connection may make before the service gives up (at least 1).</summary>
    public int MaxConnectAttempts { get; set; } = 3;

    /// <summary>Gets or sets how much untranscribed audio is kept for replay after a reconnect (more than 0, at most an hour).</summary>
    public TimeSpan MaxReplay { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Gets or sets how long a committed utterance may wait for its transcript while the server sends nothing before the
    /// connection counts as stalled and is replaced, the untranscribed audio replayed (more than 0, at most a day, or
    /// <see cref="Timeout.InfiniteTimeSpan"/>; 10 s by default).
    /// </summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how much audio is gathered into one append (0 to 1 s; 0, the default, appends every frame). Gathered
    /// audio is always sent before a commit, so the final transcript is not later; interim transcripts may be up to this
    /// much later. A server carrying many sessions saves messages with 100 ms.
    /// </summary>
    public TimeSpan AppendInterval { get; set; }

    /// <summary>Gets or sets after how long without sending audio a keepalive (100 ms of silence) is sent; the server closes idle sessions after 300 s, so it must be less than that.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Gets or sets how long a session must stay up for its drop to count as the first again (the drop budget of
    /// <see cref="MaxConnectAttempts"/> × 3 then starts over; more than 0, at most a day; 60 s by default).
    /// </summary>
    public TimeSpan DropCountResetAfter { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Creates a copy of these options.</summary>
    public TogetherSttOptions Clone() => (TogetherSttOptions)MemberwiseClone();

    /// <summary>The longest <see cref="KeepAliveInterval"/>: the server closes a session after 300 s without audio.</summary>
    internal static readonly TimeSpan ServerIdleTimeout = TimeSpan.FromSeconds(300);

    /// <summary>The longest <see cref="MaxReplay"/> (an hour of 16 kHz audio is 115 MB).</summary>
    internal static readonly TimeSpan MaxReplayLimit = TimeSpan.FromHours(1);

    /// <summary>
    /// Checks every setting but the key (a missing key is the service's fatal error at start, so a pipeline reports it
    /// as a frame). Call where the service is built; <see cref="OptionChecks.ThrowIfAny"/> throws the first error.
    /// </summary>
    internal OptionChecks Validate() => new OptionChecks(nameof(TogetherSttOptions))
        .BaseUrl(nameof(BaseUrl), BaseUrl)
        .Required(nameof(Model), Model)
        .Check(UserId is not null, nameof(UserId), UserId, "is required", isRange: false)
        .Positive(nameof(SessionTimeout), SessionTimeout)
        .Positive(nameof(FinalTranscriptTimeout), FinalTranscriptTimeout)
        .Delay(nameof(ReconnectBaseDelay), ReconnectBaseDelay)
        .Check(ReconnectMaxDelay >= ReconnectBaseDelay && ReconnectMaxDelay > TimeSpan.Zero && ReconnectMaxDelay <= OptionChecks.MaxTime,
            nameof(ReconnectMaxDelay), ReconnectMaxDelay, $"must be more than 0, at least ReconnectBaseDelay ({ReconnectBaseDelay:c}) and at most 1 day", isRange: true)
        .Range(nameof(MaxConnectAttempts), MaxConnectAttempts, 1)
        .Positive(nameof(MaxReplay), MaxReplay, MaxReplayLimit)
        .Positive(nameof(DropCountResetAfter), DropCountResetAfter)
        .Check(StallTimeout == Timeout.InfiniteTimeSpan || (StallTimeout > TimeSpan.Zero && StallTimeout <= OptionChecks.MaxTime), nameof(StallTimeout), StallTimeout, "must be more than 0 and at most 1 day, or infinite", isRange: true)
        .Check(AppendInterval >= TimeSpan.Zero && AppendInterval <= TimeSpan.FromSeconds(1), nameof(AppendInterval), AppendInterval, "must be from 0 to 1 s", isRange: true)
        .Check(KeepAliveInterval > TimeSpan.Zero && KeepAliveInterval < ServerIdleTimeout, nameof(KeepAliveInterval), KeepAliveInterval,
            "must be more than 0 and less than 300 s (the server closes a session after 300 s without audio)", isRange: true);

    internal Uri BuildUri(string model) => new TogetherClientOptions { BaseUrl = BaseUrl }.BuildUri(
        $"realtime?intent=transcription&model={Uri.EscapeDataString(model)}&input_audio_format=pcm_s16le_16000&turn_detection=none", webSocket: true);
}
