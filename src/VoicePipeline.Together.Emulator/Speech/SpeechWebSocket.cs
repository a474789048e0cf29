using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using VoicePipeline.Together.Client;

namespace VoicePipeline.Together.Emulator.Speech;

/// <summary>
/// The speech WebSocket, <c>/v1/audio/speech/websocket?model=..&amp;voice=..</c>: text is buffered per context and
/// synthesized on commit, one commit after the other, off the receive loop so that <c>context.cancel</c> is read (and
/// obeyed at once) while audio streams.
/// </summary>
internal static class SpeechWebSocket
{
    /// <summary>The context of messages that name none.</summary>
    public const string DefaultContext = "default";

    /// <summary>JSON as the rest of the emulator writes it: base64's '+' and '/' as they are.</summary>
    private static readonly JsonWriterOptions s_relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task HandleAsync(HttpContext context, TogetherEmulatorOptions options, EmulatorState state)
    {
        var request = context.Request;
        var response = context.Response;
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await EmulatorAuth.WriteErrorAsync(response, 400, "invalid_request_error", "invalid_request", "Expected a WebSocket upgrade.").ConfigureAwait(false);
            return;
        }
        if (!IsAuthorized(request, options))
        {
            await EmulatorAuth.WriteUnauthorizedAsync(response).ConfigureAwait(false);
            return;
        }
        if (await options.SpeechFaults.TryRefuseAsync(response).ConfigureAwait(false))
            return;
        var refusal = SpeechEndpoints.Resolve(request.Query["model"].ToString(), request.Query["voice"].ToString(), webSocket: true, out var model, out var voice);
        if (refusal is not null)
        {
            await SpeechEndpoints.WriteRefusalAsync(response, refusal).ConfigureAwait(false);
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        using var session = new Session(socket, options, state, model!, voice!, context.RequestAborted);
        await session.RunAsync().ConfigureAwait(false);
    }

    /// <summary>The Bearer header, or the <c>api_key</c> query parameter Together also accepts here.</summary>
    private static bool IsAuthorized(HttpRequest request, TogetherEmulatorOptions options)
        => EmulatorAuth.IsAuthorized(request, options) || EmulatorAuth.IsAcceptedKey(request.Query["api_key"].ToString(), options);

    /// <summary>A committed text waiting for, or in, synthesis.</summary>
    private sealed class Job(string contextId, string itemId, string text, EmulatedVoice voice, string? language, double? speed, long committed,
        SpeechRequestLog log, CancellationToken sessionToken)
    {
        public string ContextId { get; } = contextId;
        public string ItemId { get; } = itemId;
        public string Text { get; } = text;
        public EmulatedVoice Voice { get; } = voice;
        public string? Language { get; } = language;
        public double? Speed { get; } = speed;
        public long Committed { get; } = committed;
        public SpeechRequestLog Log { get; } = log;
        public CancellationTokenSource Cancellation { get; } = CancellationTokenSource.CreateLinkedTokenSource(sessionToken);
        public bool Finished { get; set; }
    }

    private sealed class Session(WebSocket socket, TogetherEmulatorOptions options, EmulatorState state, EmulatedSpeechModel model, EmulatedVoice voice, CancellationToken aborted) : IDisposable
    {
        private readonly SpeechFaults _faults = options.SpeechFaults;
        private readonly TimeProvider _time = options.TimeProvider;
        private readonly SemaphoreSlim _sendLock = new(1, 1);
        private readonly Channel<Job> _jobs = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        private readonly Dictionary<string, StringBuilder> _buffers = new(StringComparer.Ordinal);
        private readonly List<Job> _pending = []; // committed and not finished (under its own lock)
        private readonly string _sessionId = "tts_sess_" + Guid.NewGuid().ToString("N")[..12];
        private EmulatedVoice _voice = voice;
        private string? _language;
        private double? _speed;
        private int _items;

        public async Task RunAsync()
        {
            var worker = Task.Run(WorkAsync);
            try
            {
                await SendAsync(new JsonObject { ["type"] = "session.created", ["session"] = Settings() }, null).ConfigureAwait(false);
                await ReceiveLoopAsync().ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or IOException)
            {
                // The client went away.
            }
            finally
            {
                _jobs.Writer.TryComplete();
                CancelAll();
                await worker.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        public void Dispose()
        {
            _sendLock.Dispose();
            lock (_pending)
            {
                foreach (var job in _pending)
                    job.Cancellation.Dispose();
            }
        }

        private JsonObject Settings() => new()
        {
            ["id"] = _sessionId,
            ["object"] = "tts.session",
            ["model"] = model.Id,
            ["voice"] = _voice.Id,
            ["language"] = _language,
            ["speed"] = _speed,
            ["sample_rate"] = SpeechAudio.ModelSampleRate,
            ["encoding"] = "pcm_s16le",
        };

        private async Task ReceiveLoopAsync()
        {
            var buffer = new ArrayBufferWriter<byte>(16 * 1024);
            while (socket.State == WebSocketState.Open)
            {
                var result = await socket.ReceiveMessageAsync(buffer, options.MaxMessageBytes, aborted).ConfigureAwait(false);
                if ((!result.EndOfMessage || buffer.WrittenCount > options.MaxMessageBytes) && result.MessageType != WebSocketMessageType.Close)
                {
                    CancelAll();
                    await _sendLock.WaitAsync(aborted).ConfigureAwait(false);
                    try
                    {
                        await socket.CloseAsync(WebSocketCloseStatus.MessageTooBig, $"A message over {options.MaxMessageBytes} bytes.", CancellationToken.None).ConfigureAwait(false);
                    }
                    finally
                    {
                        _sendLock.Release();
                    }
                    return;
                }
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    CancelAll();
                    await _sendLock.WaitAsync(aborted).ConfigureAwait(false);
                    try
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None).ConfigureAwait(false);
                    }
                    finally
                    {
                        _sendLock.Release();
                    }
                    return;
                }

                JsonElement message;
                try
                {
                    using var document = JsonDocument.Parse(buffer.WrittenMemory);
                    message = document.RootElement.Clone();
                }
                catch (JsonException exception)
                {
                    await SendErrorAsync("invalid_json", "The message is not valid JSON: " + exception.Message, null).ConfigureAwait(false);
                    continue;
                }
                if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
                {
                    await SendErrorAsync("invalid_request", "A message must be a JSON object with a string 'type'.", null).ConfigureAwait(false);
                    continue;
                }
                var contextId = message.TryGetProperty("context_id", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : DefaultContext;
                await HandleAsync(typeElement.GetString()!, message, contextId).ConfigureAwait(false);
            }
        }

        private async Task HandleAsync(string type, JsonElement message, string contextId)
        {
            switch (type)
            {
                case "input_text_buffer.append":
                    if (!message.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
                    {
                        await SendErrorAsync("invalid_request", "input_text_buffer.append needs a string 'text'.", contextId).ConfigureAwait(false);
                        return;
                    }
                    if (!_buffers.TryGetValue(contextId, out var builder))
                        _buffers[contextId] = builder = new StringBuilder();
                    builder.Append(text.GetString());
                    return;
                case "input_text_buffer.commit":
                    await CommitAsync(contextId).ConfigureAwait(false);
                    return;
                case "input_text_buffer.clear":
                    _buffers.Remove(contextId);
                    await SendAsync(new JsonObject { ["type"] = "input_text_buffer.cleared", ["context_id"] = contextId }, null).ConfigureAwait(false);
                    return;
                case "tts_session.updated":
                    await UpdateAsync(message, contextId).ConfigureAwait(false);
                    return;
                case "context.cancel":
                    _buffers.Remove(contextId);
                    Cancel(contextId);
                    // Sent after the jobs were cancelled: no audio of the context can follow it.
                    await SendAsync(new JsonObject { ["type"] = "context.cancelled", ["context_id"] = contextId }, null).ConfigureAwait(false);
                    return;
                default:
                    await SendErrorAsync("unknown_event", $"Unknown event type '{type}'.", contextId).ConfigureAwait(false);
                    return;
            }
        }

        private async Task CommitAsync(string contextId)
        {
            var committed = _time.GetTimestamp();
            var text = _buffers.Remove(contextId, out var builder) ? builder.ToString().Trim() : string.Empty;
            if (text.Length == 0)
            {
                await SendErrorAsync("empty_buffer", "Nothing to commit: the text buffer is empty.", contextId).ConfigureAwait(false);
                return;
            }
            var itemId = $"item_{Interlocked.Increment(ref _items):D4}";
            var log = new SpeechRequestLog(SpeechTransport.WebSocket, model.Id, _voice.Id, text, _speed, _language, SpeechAudio.ModelSampleRate, contextId);
            state.AddSpeechRequest(log);
            var job = new Job(contextId, itemId, text, _voice, _language, _speed, committed, log, aborted);
            lock (_pending)
                _pending.Add(job);
            await SendAsync(new JsonObject { ["type"] = "conversation.item.input_text.received", ["item_id"] = itemId, ["context_id"] = contextId, ["text"] = text }, null).ConfigureAwait(false);
            _jobs.Writer.TryWrite(job);
        }

        private async Task UpdateAsync(JsonElement message, string contextId)
        {
            if (!message.TryGetProperty("session", out var settings) || settings.ValueKind != JsonValueKind.Object)
            {
                await SendErrorAsync("invalid_request", "tts_session.updated needs a 'session' object.", contextId).ConfigureAwait(false);
                return;
            }
            if (settings.TryGetProperty("voice", out var v) && v.ValueKind == JsonValueKind.String)
            {
                var found = model.FindVoice(v.GetString());
                if (found is null)
                {
                    await SendErrorAsync("invalid_voice", $"The voice '{v.GetString()}' is not a voice of {model.Id}.", contextId, "voice").ConfigureAwait(false);
                    return;
                }
                _voice = found;
            }
            if (settings.TryGetProperty("language", out var l) && l.ValueKind == JsonValueKind.String)
                _language = l.GetString();
            if (settings.TryGetProperty("speed", out var s) && s.ValueKind == JsonValueKind.Number)
            {
                var speed = s.GetDouble();
                if (speed is < 0.25 or > 4)
                {
                    await SendErrorAsync("invalid_request", "speed must be between 0.25 and 4.", contextId, "speed").ConfigureAwait(false);
                    return;
                }
                _speed = speed;
            }
            await SendAsync(new JsonObject { ["type"] = "tts_session.updated", ["session"] = Settings() }, null).ConfigureAwait(false);
        }

        private void Cancel(string contextId)
        {
            lock (_pending)
            {
                foreach (var job in _pending.Where(j => j.ContextId == contextId && !j.Finished))
                {
                    job.Log.MarkCancelled();
                    job.Cancellation.Cancel();
                }
            }
        }

        private void CancelAll()
        {
            lock (_pending)
            {
                foreach (var job in _pending)
                    job.Cancellation.Cancel();
            }
        }

        /// <summary>Synthesizes committed texts in order.</summary>
        private async Task WorkAsync()
        {
            await foreach (var job in _jobs.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                try
                {
                    await SynthesizeAsync(job).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Cancelled by the client, or the session ended.
                }
                catch (Exception exception) when (exception is WebSocketException or IOException or ObjectDisposedException)
                {
                    return; // the socket is gone
                }
                finally
                {
                    lock (_pending)
                    {
                        job.Finished = true;
                        _pending.Remove(job);
                    }
                    job.Cancellation.Dispose();
                }
            }
        }

        private async Task SynthesizeAsync(Job job)
        {
            var token = job.Cancellation.Token;
            if (_faults.FirstByteDelay > TimeSpan.Zero)
                await Task.Delay(_faults.FirstByteDelay, _time, token).ConfigureAwait(false);
            if (_faults.StallAfterChunks == 0)
                await Task.Delay(Timeout.Infinite, token).ConfigureAwait(false);
            SynthesizedSpeech speech;
            try
            {
                speech = await Task.Run(() => SpeechAudio.Synthesize(options, job.Text, model.Id, job.Voice, job.Speed, job.Language, SpeechAudio.ModelSampleRate), token).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                await SendAsync(Failed(job, exception.Message), job).ConfigureAwait(false);
                return;
            }
            await SendAsync(SpeechEndpoints.WordTimestamps(speech, job.ItemId, job.ContextId), job).ConfigureAwait(false);
            var index = 0;
            var delta = new ArrayBufferWriter<byte>(); // reused: each delta is written straight to UTF-8, sent, then cleared
            foreach (var chunk in SpeechEndpoints.Chunks(speech.Pcm, speech.SampleRate, "pcm_s16le", _faults.RiffHeaderInAudio))
            {
                if (_faults.FailMidStreamAfterChunks == index)
                {
                    await SendAsync(Failed(job, "Injected failure part way through the synthesis."), job).ConfigureAwait(false);
                    return;
                }
                if (_faults.StallAfterChunks == index)
                    await Task.Delay(Timeout.Infinite, token).ConfigureAwait(false);
                if (index > 0 && _faults.ChunkInterval > TimeSpan.Zero)
                    await Task.Delay(_faults.ChunkInterval, _time, token).ConfigureAwait(false);
                delta.ResetWrittenCount();
                using (var writer = new Utf8JsonWriter(delta, s_relaxed))
                {
                    writer.WriteStartObject();
                    writer.WriteString("type"u8, "conversation.item.audio_output.delta"u8);
                    writer.WriteString("item_id"u8, job.ItemId);
                    writer.WriteString("context_id"u8, job.ContextId);
                    writer.WriteBase64String("delta"u8, chunk.Span);
                    writer.WriteEndObject();
                }
                if (!await SendAsync(delta.WrittenMemory, job).ConfigureAwait(false))
                    return;
                if (index++ == 0)
                    job.Log.MarkFirstAudio(_time.GetElapsedTime(job.Committed));
            }
            await SendAsync(new JsonObject { ["type"] = "conversation.item.audio_output.done", ["item_id"] = job.ItemId, ["context_id"] = job.ContextId }, job).ConfigureAwait(false);
        }

        private static JsonObject Failed(Job job, string message) => new()
        {
            ["type"] = "conversation.item.tts.failed",
            ["item_id"] = job.ItemId,
            ["context_id"] = job.ContextId,
            ["error"] = SpeechEndpoints.SynthesisError(message),
        };

        private Task SendErrorAsync(string code, string message, string? contextId, string? param = null)
        {
            var error = new JsonObject
            {
                ["type"] = "error",
                ["error"] = new JsonObject { ["message"] = message, ["type"] = "invalid_request_error", ["param"] = param, ["code"] = code },
            };
            if (contextId is not null)
                error["context_id"] = contextId;
            return SendAsync(error, null);
        }

        /// <summary>Sends <paramref name="message"/>; for a job, only while it is not cancelled (checked under the send lock).</summary>
        /// <returns>False when the job was cancelled and nothing was sent.</returns>
        private Task<bool> SendAsync(JsonObject message, Job? job)
            => SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString(SpeechEndpoints.Json)), job);

        /// <summary>Sends a message already in UTF-8 JSON; for a job, only while it is not cancelled.</summary>
        private async Task<bool> SendAsync(ReadOnlyMemory<byte> bytes, Job? job)
        {
            await _sendLock.WaitAsync(aborted).ConfigureAwait(false);
            try
            {
                if (job is not null && job.Cancellation.IsCancellationRequested)
                    return false;
                await socket.SendAsync(bytes, WebSocketMessageType.Text, true, aborted).ConfigureAwait(false);
                return true;
            }
            finally
            {
                _sendLock.Release();
            }
        }
    }
}
