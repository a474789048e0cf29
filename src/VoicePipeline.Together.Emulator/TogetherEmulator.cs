using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VoicePipeline.Together.Emulator.Chat;
using VoicePipeline.Together.Emulator.Realtime;
using VoicePipeline.Together.Emulator.Speech;
using VoicePipeline.Together.Emulator.Transcriptions;

namespace VoicePipeline.Together.Emulator;

/// <summary>
/// A local Together-compatible server on Kestrel, for development and tests only: realtime transcription,
/// batch transcription, text-to-speech and voices, backed by offline engines.
/// </summary>
public sealed class TogetherEmulator : IAsyncDisposable
{
    private readonly WebApplication _app;

    private readonly EmulatorState _state;

    private TogetherEmulator(WebApplication app, TogetherEmulatorOptions options, Uri baseUrl, EmulatorState state)
    {
        _app = app;
        _state = state;
        Options = options;
        BaseUrl = baseUrl;
    }

    /// <summary>Gets the options the emulator runs with.</summary>
    public TogetherEmulatorOptions Options { get; }

    /// <summary>Gets the API base URL clients use, for example <c>http://127.0.0.1:5123/v1</c>.</summary>
    public Uri BaseUrl { get; }

    /// <summary>
    /// Gets the realtime connection attempts so far (the most recent <see cref="TogetherEmulatorOptions.MaxLoggedRequests"/>),
    /// accepted or not, in order; their events and audio when <see cref="TogetherEmulatorOptions.RecordRealtimeSessions"/> is set.
    /// </summary>
    public IReadOnlyList<RealtimeSessionLog> RealtimeSessions => _state.RealtimeSessions;

    /// <summary>
    /// Completes when a realtime connection has received an event of <paramref name="type"/> (for example
    /// <c>input_audio_buffer.commit</c>), at once if one already has: what a test waits for before moving a fake clock.
    /// Needs <see cref="TogetherEmulatorOptions.RecordRealtimeSessions"/>.
    /// </summary>
    public Task WaitForRealtimeEventAsync(string type, CancellationToken cancellationToken = default) => _state.WaitForRealtimeEventAsync(type, cancellationToken);

    /// <summary>Gets the batch transcription or translation requests so far (the most recent <see cref="TogetherEmulatorOptions.MaxLoggedRequests"/>), in order.</summary>
    public IReadOnlyList<Transcriptions.TranscriptionRequestLog> TranscriptionRequests => _state.TranscriptionRequests;

    /// <summary>Gets the speech syntheses asked for so far (REST, SSE, and each WebSocket commit; the most recent <see cref="TogetherEmulatorOptions.MaxLoggedRequests"/>), in order.</summary>
    public IReadOnlyList<SpeechRequestLog> SpeechRequests => _state.SpeechRequests;

    /// <summary>Gets every chat completion answered so far, in order, with the emulator's own time to answer it.</summary>
    public IReadOnlyList<ChatRequestLog> ChatRequests => _state.ChatRequests;

    /// <summary>
    /// Synthesizes <paramref name="text"/> exactly as the speech endpoints would: the PCM s16le mono bytes that a REST
    /// <c>raw</c>/<c>pcm_s16le</c> body, the SSE stream or the WebSocket carry for the same model, voice, speed and rate.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="model">A speech model the emulator offers, for example <c>hexgrad/Kokoro-82M</c>.</param>
    /// <param name="voice">One of its voices, for example <c>af_heart</c>.</param>
    /// <param name="speed">The speed (1 is normal).</param>
    /// <param name="sampleRate">The sample rate (the WebSocket always uses 24000).</param>
    /// <exception cref="ArgumentException">The model or voice is not offered.</exception>
    public byte[] Synthesize(string text, string model, string voice, double? speed = null, int sampleRate = 24000)
    {
        ArgumentException.ThrowIfNullOrEmpty(text);
        if (SpeechEndpoints.Resolve(model, voice, webSocket: false, out _, out var found) is { } refusal)
            throw new ArgumentException(refusal.Message, refusal.Param);
        return SpeechAudio.Synthesize(Options, text, model, found!, speed, language: null, sampleRate).Pcm;
    }

    /// <summary>Starts an emulator and returns once it accepts connections.</summary>
    /// <exception cref="ArgumentException">The host is not a loopback address and no API key is set, or a limit is out of range.</exception>
    public static async Task<TogetherEmulator> StartAsync(TogetherEmulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new TogetherEmulatorOptions();
        Validate(options);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(options.LoggerFactory);
        builder.WebHost.UseKestrel(k => k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes).UseUrls($"http://{options.Host}:{options.Port}");
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            var path = context.Request.Path;
            if (!path.StartsWithSegments("/v1/audio/transcriptions") && !path.StartsWithSegments("/v1/audio/translations")
                && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
                limit.MaxRequestBodySize = options.MaxJsonBodyBytes;
            try
            {
                await next(context).ConfigureAwait(false);
            }
            catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge && !context.Response.HasStarted)
            {
                await EmulatorAuth.WriteErrorAsync(context.Response, StatusCodes.Status413PayloadTooLarge, "invalid_request_error", "request_too_large",
                    $"The request body is larger than this emulator takes ({exception.Message})").ConfigureAwait(false);
            }
        });
        app.UseWebSockets();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxLoggedRequests, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxRecordedAudioBytes);
        var state = new EmulatorState(options.MaxLoggedRequests);
        var v1 = app.MapGroup("/v1");
        v1.MapRealtimeTranscription(options, state);
        v1.MapTranscriptions(options, state);
        v1.MapSpeech(options, state);
        v1.MapChatCompletions(options, state);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TogetherEmulator(app, options, new Uri(address.TrimEnd('/') + "/v1"), state);
    }

    /// <summary>Whether <paramref name="host"/> is a loopback address: 127.0.0.0/8, ::1 or <c>localhost</c>.</summary>
    public static bool IsLoopback(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var bare = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        return bare.Equals("localhost", StringComparison.OrdinalIgnoreCase) || IPAddress.TryParse(bare, out var address) && IPAddress.IsLoopback(address);
    }

    private static void Validate(TogetherEmulatorOptions options)
    {
        if (!IsLoopback(options.Host) && string.IsNullOrEmpty(options.ApiKey))
            throw new ArgumentException(
                $"The emulator listens on {options.Host} (outside 127.0.0.0/8 and ::1) only with an API key of its own (--api-key): without one it accepts any key, so anyone who reaches that address could use it.",
                nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxFetchedFileBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxRequestBodyBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxJsonBodyBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxMessageBytes);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
