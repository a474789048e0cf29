using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using VoicePipeline.Audio;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Emulator.Recognition;
using VoicePipeline.Together.Realtime;

namespace VoicePipeline.Together.Emulator.Realtime;

/// <summary>The realtime transcription WebSocket, <c>/v1/realtime</c>, with Together's events and rules.</summary>
internal static class RealtimeTranscriptionEndpoints
{
    private const int SamplesPerDelta = 8000; // an interim transcript about every 0.5 s of new audio

    public static IEndpointRouteBuilder MapRealtimeTranscription(this IEndpointRouteBuilder routes, TogetherEmulatorOptions options, EmulatorState state)
    {
        routes.Map("/realtime", context => HandleAsync(context, options, state));
        return routes;
    }

    private static async Task HandleAsync(HttpContext context, TogetherEmulatorOptions options, EmulatorState state)
    {
        var request = context.Request;
        var headers = request.Headers.ToDictionary(h => h.Key, h => Redact(h.Key, h.Value.ToString()), StringComparer.OrdinalIgnoreCase);
        var url = request.Path + request.QueryString.ToString();
        var faults = options.RealtimeFaults;

        string? rejection = null;
        int status = StatusCodes.Status400BadRequest;
        string code = "invalid_request";
        var model = request.Query["model"].ToString();
        var format = request.Query["input_audio_format"].ToString();
        if (!context.WebSockets.IsWebSocketRequest)
            rejection = "Expected a WebSocket upgrade.";
        else if (!IsAuthorized(request, options))
            (status, code, rejection) = (StatusCodes.Status401Unauthorized, "invalid_api_key", "Invalid API key provided.");
        else if (faults.RejectHandshakeStatus is { } injected && (faults.RejectHandshakeCount is null || faults.HandshakesRejected < faults.RejectHandshakeCount))
        {
            Interlocked.Increment(ref faults.HandshakesRejected);
            (status, code, rejection) = (injected, injected switch { 429 => "rate_limit_exceeded", 401 => "invalid_api_key", 403 => "forbidden", _ => "no_healthy_upstream" }, $"Injected rejection ({injected}).");
        }
        else if (model.Length == 0)
            (code, rejection) = ("model_not_available", "The model query parameter is required.");
        else if (format.Length > 0 && SampleRateOf(format) is null)
            (code, rejection) = ("invalid_audio_format", $"Unsupported input_audio_format '{format}'.");

        if (rejection is not null)
        {
            state.AddRealtimeSession(new RealtimeSessionLog(url, headers, accepted: false, options.RecordRealtimeSessions, options.MaxRecordedAudioBytes));
            await EmulatorAuth.WriteErrorAsync(context.Response, status, status == 401 ? "invalid_request_error" : "server_error", code, rejection).ConfigureAwait(false);
            return;
        }

        var log = new RealtimeSessionLog(url, headers, accepted: true, options.RecordRealtimeSessions, options.MaxRecordedAudioBytes);
        state.AddRealtimeSession(log);
        var subprotocol = context.WebSockets.WebSocketRequestedProtocols.Contains("realtime") ? "realtime" : null;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(subprotocol).ConfigureAwait(false);
        var session = new Session(socket, log, options, model, SampleRateOf(format) ?? 16_000, request.Query["language"].ToString(), context);
        await session.RunAsync(context.RequestAborted).ConfigureAwait(false);
    }

    private static bool IsAuthorized(HttpRequest request, TogetherEmulatorOptions options)
    {
        if (EmulatorAuth.IsAuthorized(request, options))
            return true;
        // Browsers cannot set headers: the key may come as a subprotocol.
        var key = request.HttpContext.WebSockets.WebSocketRequestedProtocols
            .FirstOrDefault(p => p.StartsWith("openai-insecure-api-key.", StringComparison.Ordinal))?["openai-insecure-api-key.".Length..];
        return EmulatorAuth.IsAcceptedKey(key, options);
    }

    private static int? SampleRateOf(string format) => format switch
    {
        "" or "pcm_s16le_16000" => 16_000,
        "pcm_s16le_8000" => 8_000,
        "pcm_s16le_24000" or "pcm16" or "pcm_s16le" => 24_000,
        _ => null,
    };

    private static string Redact(string name, string value)
    {
        if (name.Equals("Authorization", StringComparison.OrdinalIgnoreCase))
            return value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? "Bearer ***" : "***";
        if (name.Equals("Sec-WebSocket-Protocol", StringComparison.OrdinalIgnoreCase))
            return string.Join(", ", value.Split(',').Select(p => p.Trim().StartsWith("openai-insecure-api-key.", StringComparison.Ordinal) ? "openai-insecure-api-key.***" : p.Trim()));
        return value;
    }

    /// <summary>
    /// Reads an append's audio straight from the message's UTF-8 into <paramref name="pcm"/> (grown when needed, reused
    /// across appends: no string and no array per message, which a server with hundreds of sessions would otherwise
    /// collect several times a second). False for anything but a well-formed append whose base64 decodes as is; the
    /// serializer then reads the message and reports what is wrong with it.
    /// </summary>
    internal static bool TryDecodeAppend(ReadOnlySpan<byte> json, ref byte[] pcm, out int length)
    {
        length = 0;
        var isAppend = false;
        ReadOnlySpan<byte> audio = default;
        var hasAudio = false;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped)
                        return false;
                    isAppend = reader.ValueSpan.SequenceEqual("input_audio_buffer.append"u8);
                }
                else if (reader.ValueTextEquals("audio"u8))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped || reader.HasValueSequence)
                        return false;
                    audio = reader.ValueSpan;
                    hasAudio = true;
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
                return false;
        }
        catch (JsonException)
        {
            return false;
        }
        if (!isAppend || !hasAudio)
            return false;
        var needed = System.Buffers.Text.Base64.GetMaxDecodedFromUtf8Length(audio.Length);
        if (pcm.Length < needed)
            pcm = new byte[Math.Max(needed, 2 * pcm.Length)];
        return System.Buffers.Text.Base64.DecodeFromUtf8(audio, pcm, out _, out length) == OperationStatus.Done;
    }

    /// <summary>One connection: recognizes committed audio and answers with Together's events.</summary>
    private sealed class Session(WebSocket socket, RealtimeSessionLog log, TogetherEmulatorOptions options, string model, int sampleRate, string language, HttpContext context)
    {
        private readonly RealtimeFaults _faults = options.RealtimeFaults;
        private readonly StreamingResampler? _resampler = sampleRate == 16_000 ? null : new StreamingResampler(sampleRate, 16_000);
        private string? _language = language.Length > 0 ? language : null;
        private string? _prompt;
        private IStreamingRecognizer? _recognizer;
        private long _audioBytes;
        private long _sessionSamples;
        private long _utteranceStart;
        private int _samplesSinceDelta;
        private string _lastDelta = string.Empty;
        private byte[] _pcm = new byte[4096]; // an append's decoded audio, reused
        private int _commits;
        private bool _stalled;

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            var factory = options.Recognizer ?? DefaultRecognizer.Factory;
            _recognizer = factory.Create(new RecognizerSessionOptions(model, _language));
            try
            {
                await SendAsync(new RealtimeEvent
                {
                    Type = RealtimeEventTypes.SessionCreated,
                    Session = new RealtimeSession { Id = "sess_" + Guid.NewGuid().ToString("N")[..12], Object = "realtime.transcription_session", Model = model, Language = _language },
                }, cancellationToken).ConfigureAwait(false);
                if (_faults.SendGarbage)
                {
                    await SendTextAsync("this is not json {", cancellationToken).ConfigureAwait(false);
                    await SendTextAsync("{\"type\":\"mystery.event\",\"x\":1}", cancellationToken).ConfigureAwait(false);
                }
                await ReceiveLoopAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
            {
                // The client went away.
            }
            finally
            {
                _recognizer.Dispose();
            }
        }

        private async Task ReceiveLoopAsync(CancellationToken cancellationToken)
        {
            var buffer = new ArrayBufferWriter<byte>(64 * 1024);
            while (socket.State == WebSocketState.Open)
            {
                var result = await socket.ReceiveMessageAsync(buffer, options.MaxMessageBytes, cancellationToken).ConfigureAwait(false);
                if ((!result.EndOfMessage || buffer.WrittenCount > options.MaxMessageBytes) && result.MessageType != WebSocketMessageType.Close)
                {
                    log.AddEvent("<too big>");
                    await socket.CloseAsync(WebSocketCloseStatus.MessageTooBig, $"A message over {options.MaxMessageBytes} bytes.", CancellationToken.None).ConfigureAwait(false);
                    return;
                }

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None).ConfigureAwait(false);
                    return;
                }
                if (result.MessageType == WebSocketMessageType.Binary)
                {
                    log.AddEvent("<binary>");
                    await socket.CloseAsync(WebSocketCloseStatus.PolicyViolation, "Binary frames are not supported: send JSON text.", CancellationToken.None).ConfigureAwait(false);
                    return;
                }

                if (TryDecodeAppend(buffer.WrittenSpan, ref _pcm, out var pcmLength))
                {
                    log.AddEvent(RealtimeEventTypes.Append);
                    if (!await AppendAsync(_pcm.AsMemory(0, pcmLength), cancellationToken).ConfigureAwait(false))
                        return;
                    continue;
                }

                RealtimeEvent? message;
                try
                {
                    message = JsonSerializer.Deserialize(buffer.WrittenSpan, RealtimeJsonContext.Default.RealtimeEvent);
                }
                catch (JsonException exception)
                {
                    log.AddEvent("<invalid json>");
                    await SendErrorAsync("invalid_json", exception.Message, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                var type = message?.Type ?? "<no type>";
                log.AddEvent(type);
                if (!await HandleAsync(type, message!, cancellationToken).ConfigureAwait(false))
                    return;
            }
        }

        /// <returns>False when the connection must end.</returns>
        private async Task<bool> HandleAsync(string type, RealtimeEvent message, CancellationToken cancellationToken)
        {
            switch (type)
            {
                case RealtimeEventTypes.Append:
                    byte[] pcm;
                    try
                    {
                        pcm = Convert.FromBase64String(message.Audio ?? string.Empty);
                    }
                    catch (FormatException)
                    {
                        await SendErrorAsync("invalid_audio", "The audio field is not valid base64.", cancellationToken).ConfigureAwait(false);
                        return true;
                    }
                    return await AppendAsync(pcm, cancellationToken).ConfigureAwait(false);
                case RealtimeEventTypes.Commit:
                    await CommitAsync(cancellationToken).ConfigureAwait(false);
                    return true;
                case RealtimeEventTypes.Clear:
                    _recognizer!.EndUtterance();
                    StartUtterance();
                    return true;
                case RealtimeEventTypes.SessionUpdate:
                    _language = message.Session?.Language ?? _language;
                    _prompt = message.Session?.Prompt ?? _prompt;
                    await SendAsync(new RealtimeEvent { Type = RealtimeEventTypes.SessionUpdated, Session = new RealtimeSession { Model = model, Language = _language, Prompt = _prompt } }, cancellationToken).ConfigureAwait(false);
                    return true;
                case RealtimeEventTypes.Echo:
                    await SendAsync(new RealtimeEvent { Type = RealtimeEventTypes.EchoResponse, EchoId = message.EchoId }, cancellationToken).ConfigureAwait(false);
                    return true;
                default:
                    await SendErrorAsync("unknown_event", $"Unknown event type '{type}'.", cancellationToken).ConfigureAwait(false);
                    return true;
            }
        }

        private async Task<bool> AppendAsync(ReadOnlyMemory<byte> pcm, CancellationToken cancellationToken)
        {
            log.AddAudio(pcm.Span);
            _audioBytes += pcm.Length;

            if (_faults.DropAfterAudioBytes is { } dropAt && _audioBytes >= dropAt && Interlocked.Increment(ref _faults.Drops) == 1)
            {
                if (_faults.DropWithCloseCode is { } code)
                    await socket.CloseOutputAsync((WebSocketCloseStatus)code, "no_healthy_workers", CancellationToken.None).ConfigureAwait(false);
                else
                    context.Abort();
                return false;
            }
            if (_faults.StallAfterAudioBytes is { } stallAt && _audioBytes >= stallAt && !_stalled
                && (_faults.StallCount is not { } stalls || Interlocked.Increment(ref _faults.Stalls) <= stalls))
                _stalled = true;

            var samples = Audio.Pcm.AsSamples(pcm.Span[..(pcm.Length & ~1)]);
            if (_resampler is not null)
            {
                var converted = new short[_resampler.GetMaxOutputLength(samples.Length)];
                samples = converted.AsSpan(0, _resampler.Process(samples, converted));
            }
            _recognizer!.AcceptAudio(samples);
            _sessionSamples += samples.Length;
            _samplesSinceDelta += samples.Length;
            if (_samplesSinceDelta >= SamplesPerDelta)
            {
                _samplesSinceDelta = 0;
                var partial = _recognizer.GetPartialText();
                if (partial.Length > 0 && partial != _lastDelta)
                {
                    _lastDelta = partial;
                    await SendAsync(new RealtimeEvent { Type = RealtimeEventTypes.Delta, ItemId = ItemId(_commits + 1), Delta = partial }, cancellationToken).ConfigureAwait(false);
                }
            }
            return true;
        }

        private async Task CommitAsync(CancellationToken cancellationToken)
        {
            var received = options.TimeProvider.GetTimestamp();
            _commits++;
            var itemId = ItemId(_commits);
            var start = _utteranceStart / 16000.0;
            var duration = (_sessionSamples - _utteranceStart) / 16000.0;
            var result = _recognizer!.EndUtterance();
            StartUtterance();
            await SendAsync(new RealtimeEvent { Type = RealtimeEventTypes.Committed, ItemId = itemId }, cancellationToken).ConfigureAwait(false);
            if (_faults.FailTurns.Contains(_commits))
            {
                await SendAsync(new RealtimeEvent
                {
                    Type = RealtimeEventTypes.Failed,
                    ItemId = itemId,
                    EventType = RealtimeEventTypes.Commit,
                    Error = new RealtimeError { Message = "Injected transcription failure.", Type = "server_error", Code = "transcription_failed" },
                }, cancellationToken).ConfigureAwait(false);
                log.AddCommitDuration(options.TimeProvider.GetElapsedTime(received));
                return;
            }
            await SendAsync(new RealtimeEvent
            {
                Type = RealtimeEventTypes.Completed,
                ItemId = itemId,
                Transcript = result.Text,
                Start = start,
                Duration = duration,
                Language = _language,
            }, cancellationToken).ConfigureAwait(false);
            log.AddCommitDuration(options.TimeProvider.GetElapsedTime(received));
        }

        private void StartUtterance()
        {
            _utteranceStart = _sessionSamples;
            _samplesSinceDelta = 0;
            _lastDelta = string.Empty;
        }

        private static string ItemId(int turn) => $"item_{turn:D4}";

        private Task SendErrorAsync(string code, string message, CancellationToken cancellationToken)
            => SendAsync(new RealtimeEvent { Type = RealtimeEventTypes.Error, Error = new RealtimeError { Message = message, Type = "invalid_request_error", Code = code } }, cancellationToken);

        private Task SendAsync(RealtimeEvent message, CancellationToken cancellationToken)
            => SendTextAsync(JsonSerializer.Serialize(message, RealtimeJsonContext.Default.RealtimeEvent), cancellationToken);

        private async Task SendTextAsync(string text, CancellationToken cancellationToken)
        {
            if (_stalled)
                return;
            await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cancellationToken).ConfigureAwait(false);
        }
    }
}
