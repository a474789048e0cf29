using VoicePipeline.Together.Client;

namespace VoicePipeline.Together.Realtime;

/// <summary>Settings of a <see cref="TogetherSttService"/>.</summary>
public sealed class TogetherSttOptions
{
    /// <summary>The default transcription model.</summary>
    public const string DefaultModel = "openai/whisper-large-v3";

    /// <summary>Gets or sets the API key (default: the <c>TOGETHER_API_KEY</c> environment variable). Never logged.</summary>
    public string? ApiKey { get; set; } = Environment.GetEnvironmentVariable(TogetherClientOptions.ApiKeyEnvironmentVariable);

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

    /// <summary>Gets or sets how long to wait for <c>session.created</c> after the handshake.</summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how long an <see cref="Frames.EndFrame"/> waits for outstanding final transcripts.</summary>
    public TimeSpan FinalTranscriptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets the first reconnect delay (full-jitter exponential backoff from here).</summary>
    public TimeSpan ReconnectBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Gets or sets the largest reconnect delay.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Gets or sets how many connection attempts one (re)connection may make before the service gives up.</summary>
    public int MaxConnectAttempts { get; set; } = 3;

    /// <summary>Gets or sets how much untranscribed audio is kept for replay after a reconnect.</summary>
    public TimeSpan MaxReplay { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Gets or sets after how long without sending audio a keepalive (100 ms of silence) is sent; the server closes idle sessions after 300 s.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Creates a copy of these options.</summary>
    public TogetherSttOptions Clone() => (TogetherSttOptions)MemberwiseClone();

    internal Uri BuildUri(string model) => new TogetherClientOptions { BaseUrl = BaseUrl }.BuildUri(
        $"realtime?intent=transcription&model={Uri.EscapeDataString(model)}&input_audio_format=pcm_s16le_16000&turn_detection=none", webSocket: true);
}
