using VoicePipeline.Together.Client;

namespace VoicePipeline.Together.Speech;

/// <summary>Settings of a <see cref="TogetherTtsService"/>.</summary>
public sealed class TogetherTtsOptions
{
    /// <summary>The default speech model.</summary>
    public const string DefaultModel = "hexgrad/Kokoro-82M";

    /// <summary>The default voice of <see cref="DefaultModel"/>.</summary>
    public const string DefaultVoice = "af_heart";

    /// <summary>
    /// Gets or sets the API key. Never logged. Nothing reads the environment here: configuration does (the
    /// <c>TOGETHER_API_KEY</c> variable or <c>Together:ApiKey</c>, through <c>AddVoicePipeline().AddTogether()</c>).
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>Gets or sets the API base URL; <c>http(s)</c> maps to <c>ws(s)</c> for the WebSocket.</summary>
    public Uri BaseUrl { get; set; } = TogetherClientOptions.DefaultBaseUrl;

    /// <summary>Gets or sets the model.</summary>
    public string Model { get; set; } = DefaultModel;

    /// <summary>Gets or sets the voice.</summary>
    public string Voice { get; set; } = DefaultVoice;

    /// <summary>Gets or sets the language, when the model takes one.</summary>
    public string? Language { get; set; }

    /// <summary>Gets or sets the speaking speed (1 is normal; more than 0), when the model takes one.</summary>
    public double? Speed { get; set; }

    /// <summary>Gets or sets how text reaches the server. The WebSocket has the lowest first-audio latency.</summary>
    public TogetherTtsMode Mode { get; set; } = TogetherTtsMode.WebSocket;

    /// <summary>Gets or sets how many times a rate-limited (429) or failed (5xx) request or handshake is retried (at least 0).</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>Gets or sets the first retry delay (exponential with jitter from here, or the server's <c>Retry-After</c>; 0 to 1 day).</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how long the WebSocket waits for <c>session.created</c> (more than 0, at most a day).</summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how long a sentence's synthesis may wait for the server's next audio (or its end) before the reply
    /// ends as incomplete with a non-fatal <c>stalled</c> error (more than 0, at most a day; 10 s by default).
    /// </summary>
    public TimeSpan StallTimeout { get; set; } = TogetherSpeechClient.DefaultStallTimeout;

    /// <summary>Gets or sets the longest wait a server's <c>Retry-After</c> may impose before a retry (0 to 1 day; 30 s by default).</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TogetherClientOptions.DefaultMaxRetryAfter;

    /// <summary>Gets or sets how long a request may go without progress before it fails (and is retried; more than 0, at most a day; 2 minutes by default).</summary>
    public TimeSpan RequestTimeout { get; set; } = TogetherClientOptions.DefaultRequestTimeout;

    /// <summary>Creates a copy of these options.</summary>
    public TogetherTtsOptions Clone() => (TogetherTtsOptions)MemberwiseClone();

    /// <summary>
    /// Checks every setting but the key (a missing key is the service's fatal error at start, so a pipeline reports it
    /// as a frame). Call where the service is built; <see cref="OptionChecks.ThrowIfAny"/> throws the first error.
    /// </summary>
    internal OptionChecks Validate() => new OptionChecks(nameof(TogetherTtsOptions))
        .BaseUrl(nameof(BaseUrl), BaseUrl)
        .Required(nameof(Model), Model)
        .Required(nameof(Voice), Voice)
        .Check(Speed is null || Speed > 0 && double.IsFinite(Speed.Value), nameof(Speed), Speed, "must be null or a finite number more than 0", isRange: true)
        .Check(Enum.IsDefined(Mode), nameof(Mode), Mode, "must be WebSocket, Sse or Rest", isRange: true)
        .Range(nameof(MaxRetries), MaxRetries, 0)
        .Delay(nameof(RetryBaseDelay), RetryBaseDelay)
        .Positive(nameof(SessionTimeout), SessionTimeout)
        .Positive(nameof(StallTimeout), StallTimeout)
        .Delay(nameof(MaxRetryAfter), MaxRetryAfter)
        .Positive(nameof(RequestTimeout), RequestTimeout);

    internal TogetherClientOptions ToClientOptions(TimeProvider timeProvider) => new()
    {
        ApiKey = ApiKey,
        BaseUrl = BaseUrl,
        TimeProvider = timeProvider,
        MaxRetries = MaxRetries,
        RetryBaseDelay = RetryBaseDelay,
        MaxRetryAfter = MaxRetryAfter,
        RequestTimeout = RequestTimeout,
    };
}
