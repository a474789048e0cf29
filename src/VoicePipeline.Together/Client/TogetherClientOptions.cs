namespace VoicePipeline.Together.Client;

/// <summary>Connection settings shared by every Together AI client and service.</summary>
/// <remarks>
/// Nothing here reads the environment: the key comes from the caller or from configuration (<c>Together:ApiKey</c>, or
/// the <see cref="ApiKeyEnvironmentVariable"/> variable, through <c>AddVoicePipeline().AddTogether()</c>). A client
/// validates its options once, when it is built: a setting out of range is an error naming it.
/// </remarks>
public sealed class TogetherClientOptions
{
    /// <summary>The public Together AI API base URL.</summary>
    public static readonly Uri DefaultBaseUrl = new("https://api.together.ai/v1");

    /// <summary>The name of the environment variable that holds the API key.</summary>
    public const string ApiKeyEnvironmentVariable = "TOGETHER_API_KEY";

    /// <summary>Gets or sets the API key sent as a Bearer token. Never logged.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Gets or sets the API base URL (for example <c>https://api.together.ai/v1</c> or an emulator's URL).</summary>
    public Uri BaseUrl { get; set; } = DefaultBaseUrl;

    /// <summary>Gets or sets the clock used for timeouts, backoff and metrics.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Gets or sets how many times a rate-limited or failed request is retried (with backoff, honouring <c>Retry-After</c>); at least 0.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>Gets or sets the first retry delay when the server gives no <c>Retry-After</c> (0 to 1 day).</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets the longest wait a server's <c>Retry-After</c> may impose before a retry (0 to 1 day; 30 s by default).
    /// A server asking for longer (<c>Retry-After: 86400</c>) is retried after this cap instead of parking the client.
    /// </summary>
    public TimeSpan MaxRetryAfter { get; set; } = DefaultMaxRetryAfter;

    /// <summary>
    /// Gets or sets how long a request may go without progress before it fails with the transient error code
    /// <c>timeout</c> (and is retried): no byte of an upload taken, no answer, no end of an answer's body (more than 0,
    /// at most a day; 2 minutes by default, as a long file's transcription answers only when it is done). Streams
    /// are bounded between events instead (the speech client's <c>StallTimeout</c>).
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = DefaultRequestTimeout;

    /// <summary>The default <see cref="MaxRetryAfter"/>.</summary>
    public static readonly TimeSpan DefaultMaxRetryAfter = TimeSpan.FromSeconds(30);

    /// <summary>The default <see cref="RequestTimeout"/>.</summary>
    public static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromMinutes(2);

    /// <summary>Creates a copy of these options.</summary>
    public TogetherClientOptions Clone() => (TogetherClientOptions)MemberwiseClone();

    /// <summary>Checks every setting but the key (which clients check on their own, with a message of its own).</summary>
    internal OptionChecks Validate() => new OptionChecks(nameof(TogetherClientOptions))
        .BaseUrl(nameof(BaseUrl), BaseUrl)
        .Check(TimeProvider is not null, nameof(TimeProvider), TimeProvider, "is required", isRange: false)
        .Range(nameof(MaxRetries), MaxRetries, 0)
        .Delay(nameof(RetryBaseDelay), RetryBaseDelay)
        .Delay(nameof(MaxRetryAfter), MaxRetryAfter)
        .Positive(nameof(RequestTimeout), RequestTimeout);

    /// <summary>
    /// The copy a client works with: validated (the first setting out of range throws), and with a key.
    /// </summary>
    /// <exception cref="ArgumentException">No API key is set, or a setting is malformed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    internal static TogetherClientOptions ValidatedCopy(TogetherClientOptions options, string paramName)
    {
        ArgumentNullException.ThrowIfNull(options, paramName);
        var copy = options.Clone();
        if (string.IsNullOrWhiteSpace(copy.ApiKey))
            throw new ArgumentException($"An API key is required: set {ApiKeyEnvironmentVariable} or pass one.", paramName);
        copy.Validate().ThrowIfAny();
        return copy;
    }

    /// <summary>Builds an absolute URL for <paramref name="relativePath"/> below <see cref="BaseUrl"/>.</summary>
    /// <param name="relativePath">A path such as <c>audio/transcriptions</c>, with an optional query string.</param>
    /// <param name="webSocket">When true, <c>http</c> maps to <c>ws</c> and <c>https</c> to <c>wss</c>.</param>
    public Uri BuildUri(string relativePath, bool webSocket = false)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        var baseText = BaseUrl.AbsoluteUri.TrimEnd('/');
        var builder = new UriBuilder(new Uri(baseText + "/" + relativePath.TrimStart('/')));
        if (webSocket)
        {
            builder.Scheme = builder.Scheme switch
            {
                "https" or "wss" => "wss",
                "http" or "ws" => "ws",
                _ => throw new ArgumentException($"Unsupported base URL scheme '{builder.Scheme}'.", nameof(relativePath)),
            };
            builder.Port = BaseUrl.IsDefaultPort ? -1 : BaseUrl.Port;
        }
        return builder.Uri;
    }
}
