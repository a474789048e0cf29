using System.Buffers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using VoicePipeline.Together.Client;

namespace VoicePipeline.Together.Speech;

/// <summary>
/// Together's text-to-speech: <c>POST /audio/speech</c> as a whole file, as a WAV body read while it arrives, or as
/// server-sent events; the speech WebSocket; and <c>GET /voices</c>. Rate limits (429) and server errors (5xx) are
/// retried with backoff a bounded number of times, before any audio was received (never half way through one).
/// </summary>
public sealed class TogetherSpeechClient : IDisposable
{
    private readonly TogetherClientOptions _options;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly ResiliencePipeline _retry;

    /// <summary>Creates a client; its options are copied and validated here, once.</summary>
    /// <param name="options">The key, base URL, clock (every timeout and backoff) and retry settings.</param>
    /// <param name="httpClient">The HTTP client to send with (not owned); a new one when null.</param>
    /// <param name="loggerFactory">Where retries are logged; nowhere when null.</param>
    /// <exception cref="ArgumentException">No API key is set, or a setting is malformed (the message names it).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range (the message names it).</exception>
    public TogetherSpeechClient(TogetherClientOptions options, HttpClient? httpClient = null, ILoggerFactory? loggerFactory = null)
    {
        _options = TogetherClientOptions.ValidatedCopy(options, nameof(options));
        _ownsHttp = httpClient is null;
        _http = httpClient ?? new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        _retry = TogetherHttp.CreateRetry(_options, (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<TogetherSpeechClient>(), TogetherHttp.IsTransient);
    }

    /// <summary>Gets how long <see cref="ConnectAsync"/> waits for <c>session.created</c> (more than 0, at most a day).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a value out of that range.</exception>
    public TimeSpan SessionTimeout
    {
        get;
        init
        {
            new OptionChecks(nameof(TogetherSpeechClient)).Positive(nameof(SessionTimeout), value).ThrowIfAny();
            field = value;
        }
    } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets how long a streamed synthesis (server-sent events, a WAV body read while it downloads, a WebSocket context)
    /// may wait for the server's next event or bytes before it ends as incomplete, with the error code <c>stalled</c>
    /// (more than 0, at most a day; 10 s by default).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a value out of that range.</exception>
    public TimeSpan StallTimeout
    {
        get;
        init
        {
            new OptionChecks(nameof(TogetherSpeechClient)).Positive(nameof(StallTimeout), value).ThrowIfAny();
            field = value;
        }
    } = DefaultStallTimeout;

    /// <summary>The default <see cref="StallTimeout"/>.</summary>
    public static readonly TimeSpan DefaultStallTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The error code of a stream the server stopped sending part way.</summary>
    public const string StalledCode = "stalled";

    /// <summary>Synthesizes <paramref name="request"/> into a whole file.</summary>
    /// <param name="request">What to say.</param>
    /// <param name="responseFormat"><c>wav</c> (default), <c>mp3</c>, <c>raw</c> or <c>mulaw</c>.</param>
    /// <param name="responseEncoding">For <c>raw</c>: <c>pcm_s16le</c> (default), <c>pcm_f32le</c>, <c>pcm_mulaw</c> or <c>pcm_alaw</c>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The body as the server sent it.</returns>
    /// <exception cref="TogetherApiException">The server refused or failed the request.</exception>
    public Task<byte[]> SynthesizeAsync(SpeechRequest request, string responseFormat = "wav", string responseEncoding = "pcm_s16le", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _retry.ExecuteAsync(token => new ValueTask<byte[]>(TogetherHttp.WithTimeoutAsync(_options, "Speech synthesis", async idle =>
        {
            using var response = await PostAsync(Body(request, responseFormat, responseEncoding, stream: false), idle.Token).ConfigureAwait(false);
            try
            {
                return await response.Content.ReadAsByteArrayAsync(idle.Token).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is HttpRequestException or IOException)
            {
                throw Broken(exception);
            }
        }, token)), cancellationToken).AsTask();
    }

    /// <summary>
    /// Synthesizes <paramref name="request"/> and streams its PCM s16le mono audio (at <see cref="SpeechRequest.SampleRate"/>)
    /// and word timings as they arrive: <see cref="TogetherTtsMode.Sse"/> reads server-sent events (both event shapes
    /// Together uses), <see cref="TogetherTtsMode.Rest"/> reads a WAV body while it downloads.
    /// </summary>
    /// <exception cref="TogetherApiException">The server refused the request, reported an error part way, or the stream broke or ended early.</exception>
    public async IAsyncEnumerable<SpeechChunk> StreamAsync(SpeechRequest request, TogetherTtsMode mode = TogetherTtsMode.Sse, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (mode == TogetherTtsMode.WebSocket)
            throw new ArgumentException("Use ConnectAsync for the WebSocket.", nameof(mode));
        var body = mode == TogetherTtsMode.Sse ? Body(request, "raw", "pcm_s16le", stream: true) : Body(request, "wav", "pcm_s16le", stream: false);
        using var response = await _retry.ExecuteAsync(token => new ValueTask<HttpResponseMessage>(
            TogetherHttp.WithTimeoutAsync(_options, "Speech synthesis", idle => PostAsync(body, idle.Token), token)), cancellationToken).ConfigureAwait(false);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var stall = new IdleTimeout(StallTimeout, _options.TimeProvider, cancellationToken);
        var assembler = new PcmAssembler(request.SampleRate);
        var isEvents = response.Content.Headers.ContentType?.MediaType == "text/event-stream";
        if (!isEvents)
        {
            // A plain body (what REST asks for, or a server that ignored "stream"): WAV or raw PCM.
            var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                while (await ReadBodyAsync(stream, buffer, stall, cancellationToken).ConfigureAwait(false) is var read and > 0)
                {
                    var pcm = assembler.Add(buffer.AsSpan(0, read), startsMessage: false);
                    if (!pcm.IsEmpty)
                        yield return new SpeechChunk(pcm, request.SampleRate);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            if (assembler.HasLeftover)
                throw new TogetherApiException("The speech body ended in the middle of a sample or header.", null, "truncated", null);
            yield break;
        }

        var events = new SseEventReader(stream);
        await using (events.ConfigureAwait(false))
        {
            var audio = new ArrayBufferWriter<byte>(16 * 1024);
            while (true)
            {
                var data = await ReadEventAsync(events, stall, cancellationToken).ConfigureAwait(false)
                    ?? throw new TogetherApiException("The speech stream ended without [DONE]: the audio may be incomplete.", null, "truncated", null);
                if (data.Span.SequenceEqual("[DONE]"u8))
                    break;
                audio.ResetWrittenCount();
                TtsEvent e;
                try
                {
                    e = TtsEventParser.Parse(data.Span, audio);
                }
                catch (InvalidDataException exception)
                {
                    throw new TogetherApiException($"The speech stream sent an event that is not valid: {exception.Message}", null, "invalid_event", null, exception);
                }
                if (e.Kind == TtsEventKind.Failed)
                    throw new TogetherApiException($"The server failed the synthesis: {e.ErrorMessage}", null, e.ErrorCode, null);
                if (e.Words is { Count: > 0 })
                    yield return new SpeechChunk(ReadOnlyMemory<byte>.Empty, request.SampleRate, e.Words);
                if (e.Kind == TtsEventKind.Audio)
                {
                    var pcm = assembler.Add(audio.WrittenSpan, startsMessage: true);
                    if (!pcm.IsEmpty)
                        yield return new SpeechChunk(pcm, request.SampleRate);
                }
            }
            if (assembler.HasLeftover)
                throw new TogetherApiException("The speech stream ended in the middle of a sample.", null, "truncated", null);
        }
    }

    /// <summary>
    /// Opens the speech WebSocket for <paramref name="model"/> and <paramref name="voice"/>, retrying refused
    /// handshakes (429, 5xx) with backoff.
    /// </summary>
    /// <exception cref="TogetherApiException">The server refused the connection for good, or every attempt failed.</exception>
    public Task<TogetherTtsConnection> ConnectAsync(string model, string voice, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        ArgumentException.ThrowIfNullOrEmpty(voice);
        return _retry.ExecuteAsync(
            token => new ValueTask<TogetherTtsConnection>(TogetherTtsConnection.ConnectAsync(_options, model, voice, SessionTimeout, StallTimeout, token)),
            cancellationToken).AsTask();
    }

    /// <summary>Lists the speech models and their voices (<c>GET /voices</c>).</summary>
    /// <exception cref="TogetherApiException">The server refused or failed the request.</exception>
    public Task<IReadOnlyList<TogetherVoiceModel>> GetVoicesAsync(CancellationToken cancellationToken = default)
        => _retry.ExecuteAsync(token => new ValueTask<IReadOnlyList<TogetherVoiceModel>>(TogetherHttp.WithTimeoutAsync(_options, "Listing voices", async idle =>
        {
            using var message = new HttpRequestMessage(HttpMethod.Get, _options.BuildUri("voices"));
            using var response = await TogetherHttp.SendAsync(_http, message, _options.ApiKey, _options.TimeProvider, idle.Token).ConfigureAwait(false);
            try
            {
                var body = await response.Content.ReadFromJsonAsync(SpeechJsonContext.Default.VoicesResponse, idle.Token).ConfigureAwait(false);
                return body?.Data ?? throw new TogetherApiException("The voices answer has no data.", null, "invalid_response", null);
            }
            catch (JsonException exception)
            {
                throw new TogetherApiException($"The voices answer is not valid JSON: {exception.Message}", null, "invalid_response", null, exception);
            }
        }, token)), cancellationToken).AsTask();

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsHttp)
            _http.Dispose();
    }

    private static SpeechRequestBody Body(SpeechRequest request, string format, string encoding, bool stream)
    {
        ArgumentException.ThrowIfNullOrEmpty(request.Input);
        return new SpeechRequestBody
        {
            Model = request.Model,
            Input = request.Input,
            Voice = request.Voice,
            ResponseFormat = format,
            ResponseEncoding = encoding,
            SampleRate = request.SampleRate,
            Language = request.Language,
            Speed = request.Speed,
            Stream = stream,
        };
    }

    private async Task<HttpResponseMessage> PostAsync(SpeechRequestBody body, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, _options.BuildUri("audio/speech"))
        {
            Content = JsonContent.Create(body, SpeechJsonContext.Default.SpeechRequestBody),
        };
        return await TogetherHttp.SendAsync(_http, message, _options.ApiKey, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
    }

    private static async ValueTask<int> ReadBodyAsync(Stream stream, byte[] buffer, IdleTimeout stall, CancellationToken cancellationToken)
    {
        try
        {
            var read = await stream.ReadAsync(buffer, stall.Token).ConfigureAwait(false);
            stall.Restart(); // progress (the time the caller takes with what it got counts too: it is short)
            return read;
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException)
        {
            throw Broken(exception);
        }
        catch (OperationCanceledException exception) when (stall.Expired && !cancellationToken.IsCancellationRequested)
        {
            throw Stalled(stall.Timeout, exception);
        }
    }

    private static async ValueTask<ReadOnlyMemory<byte>?> ReadEventAsync(SseEventReader events, IdleTimeout stall, CancellationToken cancellationToken)
    {
        try
        {
            var data = await events.ReadAsync(stall.Token).ConfigureAwait(false);
            stall.Restart();
            return data;
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException or InvalidDataException)
        {
            throw Broken(exception);
        }
        catch (OperationCanceledException exception) when (stall.Expired && !cancellationToken.IsCancellationRequested)
        {
            throw Stalled(stall.Timeout, exception);
        }
    }

    /// <summary>The error of a synthesis whose server stopped sending part way: its audio is incomplete.</summary>
    internal static TogetherApiException Stalled(TimeSpan timeout, Exception? innerException = null)
        => new($"The speech stream stalled: nothing from the server for {timeout.TotalSeconds:0.#} s; the audio is incomplete.", null, StalledCode, null, innerException);

    private static TogetherApiException Broken(Exception exception)
        => new($"The speech stream broke part way: {exception.Message}", null, "connection_lost", null, exception);
}
