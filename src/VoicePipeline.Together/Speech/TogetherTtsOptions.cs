using VoicePipeline.Together.Client;

namespace VoicePipeline.Together.Speech;

/// <summary>Settings of a <see cref="TogetherTtsService"/>.</summary>
public sealed class TogetherTtsOptions
{
    /// <summary>The default speech model.</summary>
    public const string DefaultModel = "hexgrad/Kokoro-82M";

    /// <summary>The default voice of <see cref="DefaultModel"/>.</summary>
    public const string DefaultVoice = "af_heart";

    /// <summary>Gets or sets the API key (default: the <c>TOGETHER_API_KEY</c> environment variable). Never logged.</summary>
    public string? ApiKey { get; set; } = Environment.GetEnvironmentVariable(TogetherClientOptions.ApiKeyEnvironmentVariable);

    /// <summary>Gets or sets the API base URL; <c>http(s)</c> maps to <c>ws(s)</c> for the WebSocket.</summary>
    public Uri BaseUrl { get; set; } = TogetherClientOptions.DefaultBaseUrl;

    /// <summary>Gets or sets the model.</summary>
    public string Model { get; set; } = DefaultModel;

    /// <summary>Gets or sets the voice.</summary>
    public string Voice { get; set; } = DefaultVoice;

    /// <summary>Gets or sets the language, when the model takes one.</summary>
    public string? Language { get; set; }

    /// <summary>Gets or sets the speaking speed (1 is normal), when the model takes one.</summary>
    public double? Speed { get; set; }

    /// <summary>Gets or sets how text reaches the server. The WebSocket has the lowest first-audio latency.</summary>
    public TogetherTtsMode Mode { get; set; } = TogetherTtsMode.WebSocket;

    /// <summary>Gets or sets how many times a rate-limited (429) or failed (5xx) request or handshake is retried.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>Gets or sets the first retry delay (exponential with jitter from here, or the server's <c>Retry-After</c>).</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how long the WebSocket waits for <c>session.created</c>.</summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Creates a copy of these options.</summary>
    public TogetherTtsOptions Clone() => (TogetherTtsOptions)MemberwiseClone();

    internal TogetherClientOptions ToClientOptions(TimeProvider timeProvider) => new()
    {
        ApiKey = ApiKey,
        BaseUrl = BaseUrl,
        TimeProvider = timeProvider,
        MaxRetries = MaxRetries,
        RetryBaseDelay = RetryBaseDelay,
    };
}
