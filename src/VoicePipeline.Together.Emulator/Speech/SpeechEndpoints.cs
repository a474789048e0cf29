using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace VoicePipeline.Together.Emulator.Speech;

/// <summary>
/// Together's text-to-speech: <c>POST /audio/speech</c> (a whole body, or server-sent events with <c>stream</c>),
/// <c>GET /voices</c> and the speech WebSocket, all spoken by espeak-ng and resampled to the models' 24 kHz.
/// </summary>
internal static class SpeechEndpoints
{
    /// <summary>Audio goes out in chunks of this length.</summary>
    public const int ChunkMilliseconds = 100;

    /// <summary>JSON without needless escapes (base64 keeps its '+' and '/').</summary>
    public static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly string[] s_formats = ["wav", "raw", "mp3", "mulaw"];
    private static readonly string[] s_encodings = ["pcm_s16le", "pcm_f32le", "pcm_mulaw", "pcm_alaw"];

    /// <summary>Adds the endpoints to <paramref name="routes"/>.</summary>
    public static IEndpointRouteBuilder MapSpeech(this IEndpointRouteBuilder routes, TogetherEmulatorOptions options, EmulatorState state)
    {
        routes.MapPost("/audio/speech", context => SpeakAsync(context, options, state));
        routes.MapGet("/voices", context => VoicesAsync(context, options));
        routes.Map("/audio/speech/websocket", context => SpeechWebSocket.HandleAsync(context, options, state));
        return routes;
    }

    /// <summary>A refusal: status, error code, message and the parameter at fault.</summary>
    internal sealed record Refusal(int Status, string Code, string Message, string? Param = null);

    /// <summary>Finds the model and voice, or says why not.</summary>
    internal static Refusal? Resolve(string? modelId, string? voiceId, bool webSocket, out EmulatedSpeechModel? model, out EmulatedVoice? voice)
    {
        voice = null;
        model = SpeechCatalog.FindModel(modelId);
        if (string.IsNullOrEmpty(modelId))
            return new(400, "invalid_request", "The model is required.", "model");
        if (model is null)
            return new(404, "model_not_available", $"The model '{modelId}' is not available (see GET /v1/voices).", "model");
        if (webSocket && !model.WebSocket)
            return new(400, "model_not_available", $"The model '{modelId}' is not served over the speech WebSocket; use POST /v1/audio/speech.", "model");
        if (string.IsNullOrEmpty(voiceId))
            return new(400, "invalid_request", "The voice is required.", "voice");
        voice = model.FindVoice(voiceId);
        return voice is null ? new(400, "invalid_voice", $"The voice '{voiceId}' is not a voice of {modelId} (see GET /v1/voices).", "voice") : null;
    }

    internal static Task WriteRefusalAsync(HttpResponse response, Refusal refusal)
        => EmulatorAuth.WriteErrorAsync(response, refusal.Status, "invalid_request_error", refusal.Code, refusal.Message, refusal.Param);

    /// <summary>
    /// Splits <paramref name="pcm"/> (audio in <paramref name="encoding"/>) into 100 ms pieces; with
    /// <paramref name="riffHeader"/> the first starts with a WAV header.
    /// </summary>
    internal static IEnumerable<ReadOnlyMemory<byte>> Chunks(byte[] pcm, int sampleRate, string encoding, bool riffHeader)
    {
        var bytesPerSample = SpeechAudio.BytesPerSample(encoding);
        var size = Math.Max(bytesPerSample, sampleRate * ChunkMilliseconds / 1000 * bytesPerSample);
        for (var offset = 0; offset < pcm.Length || offset == 0; offset += size)
        {
            var piece = pcm.AsMemory(offset, Math.Min(size, pcm.Length - offset));
            if (offset == 0 && riffHeader)
                yield return (byte[])[.. SpeechAudio.WavHeader(encoding, sampleRate, pcm.Length), .. piece.Span];
            else if (!piece.IsEmpty)
                yield return piece;
            if (pcm.Length == 0)
                yield break;
        }
    }

    /// <summary>The <c>conversation.item.word_timestamps</c> event.</summary>
    internal static JsonObject WordTimestamps(SynthesizedSpeech speech, string itemId, string? contextId)
    {
        var message = new JsonObject
        {
            ["type"] = "conversation.item.word_timestamps",
            ["item_id"] = itemId,
            ["words"] = new JsonArray([.. speech.Words.Select(w => JsonValue.Create(w.Word))]),
            ["start_seconds"] = new JsonArray([.. speech.Words.Select(w => JsonValue.Create(Math.Round(w.Start.TotalSeconds, 3)))]),
            ["end_seconds"] = new JsonArray([.. speech.Words.Select(w => JsonValue.Create(Math.Round(w.End.TotalSeconds, 3)))]),
        };
        if (contextId is not null)
            message["context_id"] = contextId;
        return message;
    }

    internal static JsonObject SynthesisError(string message) => new() { ["message"] = message, ["type"] = "server_error", ["code"] = "synthesis_failed" };

    private static async Task VoicesAsync(HttpContext context, TogetherEmulatorOptions options)
    {
        if (!EmulatorAuth.IsAuthorized(context.Request, options))
        {
            await EmulatorAuth.WriteUnauthorizedAsync(context.Response).ConfigureAwait(false);
            return;
        }
        var body = new JsonObject
        {
            ["data"] = new JsonArray([.. SpeechCatalog.Models.Select(m => (JsonNode)new JsonObject
            {
                ["model"] = m.Id,
                ["voices"] = new JsonArray([.. m.Voices.Select(v => (JsonNode)new JsonObject { ["id"] = v.Id, ["name"] = v.Id })]),
            })]),
        };
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(Json), context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task SpeakAsync(HttpContext context, TogetherEmulatorOptions options, EmulatorState state)
    {
        var started = options.TimeProvider.GetTimestamp();
        var response = context.Response;
        if (!EmulatorAuth.IsAuthorized(context.Request, options))
        {
            await EmulatorAuth.WriteUnauthorizedAsync(response).ConfigureAwait(false);
            return;
        }
        if (await options.SpeechFaults.TryRefuseAsync(response).ConfigureAwait(false))
            return;

        JsonElement body;
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
            body = document.RootElement.Clone();
        }
        catch (JsonException exception)
        {
            await EmulatorAuth.WriteErrorAsync(response, 400, "invalid_request_error", "invalid_json", exception.Message).ConfigureAwait(false);
            return;
        }
        if (!TryRead(body, out var request, out var refusal))
        {
            await WriteRefusalAsync(response, refusal!).ConfigureAwait(false);
            return;
        }

        var log = new SpeechRequestLog(request.Stream ? SpeechTransport.Sse : SpeechTransport.Rest, request.Model, request.VoiceId, request.Input,
            request.Speed, request.Language, request.SampleRate, contextId: null);
        state.AddSpeechRequest(log);
        SynthesizedSpeech speech;
        try
        {
            speech = await Task.Run(() => SpeechAudio.Synthesize(options, request.Input, request.Model, request.Voice, request.Speed, request.Language, request.SampleRate), context.RequestAborted).ConfigureAwait(false);
        }
        catch (NotSupportedException exception)
        {
            await WriteRefusalAsync(response, new Refusal(400, "unsupported_language", $"The language '{request.Language}' is not supported: {exception.Message}", "language")).ConfigureAwait(false);
            return;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            await EmulatorAuth.WriteErrorAsync(response, 500, "server_error", "synthesis_failed", exception.Message).ConfigureAwait(false);
            return;
        }

        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        if (request.Stream)
            await StreamEventsAsync(context, options, request, speech, log, started).ConfigureAwait(false);
        else
            await WriteBodyAsync(context, options, request, speech, log, started).ConfigureAwait(false);
    }

    private static async Task StreamEventsAsync(HttpContext context, TogetherEmulatorOptions options, SpeechBody request, SynthesizedSpeech speech, SpeechRequestLog log, long started)
    {
        var faults = options.SpeechFaults;
        var time = options.TimeProvider;
        var token = context.RequestAborted;
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        var itemId = "item_" + Guid.NewGuid().ToString("N")[..12];
        if (faults.FirstByteDelay > TimeSpan.Zero)
            await Task.Delay(faults.FirstByteDelay, time, token).ConfigureAwait(false);
        if (faults.StallAfterChunks == 0)
        {
            await response.Body.FlushAsync(token).ConfigureAwait(false); // the headers go out; then nothing
            await Task.Delay(Timeout.Infinite, token).ConfigureAwait(false);
        }
        await WriteEventAsync(response, WordTimestamps(speech, itemId, null).ToJsonString(Json), token).ConfigureAwait(false);
        var shape = faults.SseShape;
        var index = 0;
        foreach (var chunk in Chunks(SpeechAudio.Encode(speech.Pcm, request.Encoding), speech.SampleRate, request.Encoding, faults.RiffHeaderInAudio))
        {
            if (faults.FailMidStreamAfterChunks == index)
            {
                await WriteEventAsync(response, new JsonObject { ["error"] = SynthesisError("Injected failure part way through the synthesis.") }.ToJsonString(Json), token).ConfigureAwait(false);
                return; // no [DONE]: the stream ends early
            }
            if (faults.StallAfterChunks == index && index > 0)
                await Task.Delay(Timeout.Infinite, token).ConfigureAwait(false);
            if (index > 0 && faults.ChunkInterval > TimeSpan.Zero)
                await Task.Delay(faults.ChunkInterval, time, token).ConfigureAwait(false);
            var audio = Convert.ToBase64String(chunk.Span);
            var message = shape == SpeechSseShape.Delta
                ? new JsonObject { ["type"] = "conversation.item.audio_output.delta", ["item_id"] = itemId, ["delta"] = audio }
                : new JsonObject { ["object"] = "audio.tts.chunk", ["model"] = request.Model, ["b64"] = audio };
            await WriteEventAsync(response, message.ToJsonString(Json), token).ConfigureAwait(false);
            if (index++ == 0)
                log.MarkFirstAudio(time.GetElapsedTime(started));
        }
        await WriteEventAsync(response, "[DONE]", token).ConfigureAwait(false);
    }

    private static async Task WriteEventAsync(HttpResponse response, string data, CancellationToken cancellationToken)
    {
        await response.WriteAsync("data: " + data + "\n\n", cancellationToken).ConfigureAwait(false);
        await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task WriteBodyAsync(HttpContext context, TogetherEmulatorOptions options, SpeechBody request, SynthesizedSpeech speech, SpeechRequestLog log, long started)
    {
        var faults = options.SpeechFaults;
        var time = options.TimeProvider;
        var token = context.RequestAborted;
        var response = context.Response;
        var encoding = request.Format == "mulaw" ? "pcm_mulaw" : request.Encoding;
        byte[] payload;
        int bytesPerSample;
        switch (request.Format)
        {
            case "mp3":
                try
                {
                    payload = await SpeechAudio.EncodeMp3Async(speech.Pcm, speech.SampleRate, token).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    await EmulatorAuth.WriteErrorAsync(response, 500, "server_error", "synthesis_failed", "MP3 encoding needs ffmpeg: " + exception.Message).ConfigureAwait(false);
                    return;
                }
                bytesPerSample = 1;
                response.ContentType = "audio/mpeg";
                break;
            case "wav":
                var data = SpeechAudio.Encode(speech.Pcm, encoding);
                payload = [.. SpeechAudio.WavHeader(encoding, speech.SampleRate, data.Length), .. data];
                bytesPerSample = SpeechAudio.BytesPerSample(encoding);
                response.ContentType = "audio/wav";
                break;
            default: // raw, mulaw
                payload = SpeechAudio.Encode(speech.Pcm, encoding);
                bytesPerSample = SpeechAudio.BytesPerSample(encoding);
                response.ContentType = request.Format == "mulaw" ? "audio/basic" : "application/octet-stream";
                break;
        }
        response.ContentLength = payload.Length;
        if (faults.FirstByteDelay > TimeSpan.Zero)
            await Task.Delay(faults.FirstByteDelay, time, token).ConfigureAwait(false);
        var size = Math.Max(1, speech.SampleRate * ChunkMilliseconds / 1000 * bytesPerSample);
        var index = 0;
        for (var offset = 0; offset < payload.Length; offset += size, index++)
        {
            if (faults.FailMidStreamAfterChunks == index)
            {
                // Ending short of Content-Length makes Kestrel close the connection: the body is cut off part way.
                return;
            }
            if (faults.StallAfterChunks == index)
            {
                await response.Body.FlushAsync(token).ConfigureAwait(false);
                await Task.Delay(Timeout.Infinite, token).ConfigureAwait(false);
            }
            if (index > 0 && faults.ChunkInterval > TimeSpan.Zero)
                await Task.Delay(faults.ChunkInterval, time, token).ConfigureAwait(false);
            await response.Body.WriteAsync(payload.AsMemory(offset, Math.Min(size, payload.Length - offset)), token).ConfigureAwait(false);
            await response.Body.FlushAsync(token).ConfigureAwait(false);
            if (index == 0)
                log.MarkFirstAudio(time.GetElapsedTime(started));
        }
    }

    /// <summary>A validated <c>POST /audio/speech</c> body.</summary>
    private sealed record SpeechBody(string Model, string Input, string VoiceId, EmulatedVoice Voice, string Format, string Encoding,
        int SampleRate, string? Language, double? Speed, bool Stream);

    private static bool TryRead(JsonElement body, out SpeechBody request, out Refusal? refusal)
    {
        request = null!;
        if (body.ValueKind != JsonValueKind.Object)
        {
            refusal = new(400, "invalid_request", "The body must be a JSON object.");
            return false;
        }
        try
        {
            var modelId = String(body, "model");
            var voiceId = String(body, "voice");
            var input = String(body, "input");
            refusal = Resolve(modelId, voiceId, webSocket: false, out _, out var voice);
            if (refusal is not null)
                return false;
            if (string.IsNullOrWhiteSpace(input))
            {
                refusal = new(400, "invalid_request", "The input text is required.", "input");
                return false;
            }
            var stream = body.TryGetProperty("stream", out var st) && st.ValueKind == JsonValueKind.True;
            var format = String(body, "response_format") ?? (stream ? "raw" : "wav");
            var encoding = String(body, "response_encoding") ?? "pcm_s16le";
            var sampleRate = body.TryGetProperty("sample_rate", out var rate) && rate.ValueKind == JsonValueKind.Number ? rate.GetInt32() : SpeechAudio.ModelSampleRate;
            var speed = body.TryGetProperty("speed", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetDouble() : (double?)null;
            refusal = !s_formats.Contains(format) ? new(400, "invalid_request", $"response_format must be one of {string.Join(", ", s_formats)}.", "response_format")
                : stream && format != "raw" ? new(400, "invalid_request", "Streaming answers raw audio only: set response_format to raw.", "response_format")
                : !s_encodings.Contains(encoding) ? new(400, "invalid_request", $"response_encoding must be one of {string.Join(", ", s_encodings)}.", "response_encoding")
                : sampleRate is < 8000 or > 48000 ? new(400, "invalid_request", "sample_rate must be between 8000 and 48000.", "sample_rate")
                : speed is < 0.25 or > 4 ? new(400, "invalid_request", "speed must be between 0.25 and 4.", "speed")
                : null;
            if (refusal is not null)
                return false;
            request = new SpeechBody(modelId!, input!, voiceId!, voice!, format, encoding, sampleRate, String(body, "language"), speed, stream);
            return true;
        }
        catch (Exception exception) when (exception is InvalidOperationException or FormatException)
        {
            refusal = new(400, "invalid_request", "A field has the wrong type: " + exception.Message);
            return false;
        }
    }

    private static string? String(JsonElement body, string name)
        => body.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value.GetString() : null;
}
