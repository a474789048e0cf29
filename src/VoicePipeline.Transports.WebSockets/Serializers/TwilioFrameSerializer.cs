using System.Buffers;
using System.Text.Json;
using NAudio.Codecs;
using VoicePipeline.Frames;

namespace VoicePipeline.Transports.WebSockets.Serializers;

/// <summary>
/// Twilio Media Streams (TwiML <c>&lt;Connect&gt;&lt;Stream&gt;</c>, bidirectional): JSON text messages. In:
/// <c>connected</c>, <c>start</c> (learns the <see cref="StreamSid"/> and <see cref="CallSid"/>), <c>media</c> (base64
/// μ-law at 8 kHz mono), <c>dtmf</c> (an <see cref="InputDtmfFrame"/>), <c>mark</c> (Twilio played up to a mark we sent:
/// an <see cref="InputTransportMessageFrame"/> holding the event) and <c>stop</c> (ends the stream). Out: pipeline audio as
/// <c>media</c> (resampled to 8 kHz, μ-law with NAudio's G.711 codec), a <c>mark</c> after each TTS reply
/// (<see cref="TtsStoppedFrame"/>), <c>clear</c> on an <see cref="InterruptionFrame"/> (Twilio drops the audio it has
/// buffered: barge-in), and transport messages that are not RTVI as they are. Every message carries the stream's sid.
/// </summary>
public sealed class TwilioFrameSerializer : IFrameSerializer
{
    /// <summary>The rate of Twilio's audio both ways.</summary>
    public const int SampleRate = 8000;

    private readonly OutputAudioConverter _audio = new(SampleRate);
    private byte[] _message = new byte[4096];
    private byte[] _pcm = new byte[1024];
    private volatile string? _streamSid;
    private int _marks;

    /// <summary>Creates the serializer; the stream's sid comes with Twilio's <c>start</c> event unless given here.</summary>
    public TwilioFrameSerializer(string? streamSid = null) => _streamSid = streamSid;

    /// <summary>Gets the stream's sid (from the <c>start</c> event), which every message to Twilio carries; null before.</summary>
    public string? StreamSid => _streamSid;

    /// <summary>Gets the call's sid from the <c>start</c> event.</summary>
    public string? CallSid { get; private set; }

    /// <summary>Gets the <c>&lt;Parameter&gt;</c>s of the TwiML <c>&lt;Stream&gt;</c>, from the <c>start</c> event.</summary>
    public IReadOnlyDictionary<string, string> CustomParameters { get; private set; } = new Dictionary<string, string>();

    /// <summary>Gets how many messages were dropped because they were not valid Media Streams events.</summary>
    public int InvalidMessages { get; private set; }

    /// <inheritdoc />
    public void Setup(StartFrame start)
    {
    }

    /// <inheritdoc />
    public void Deserialize(ReadOnlySpan<byte> message, WireMessageType type, IDeserializedInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (_message.Length < message.Length)
            _message = new byte[Math.Max(message.Length, 2 * _message.Length)];
        message.CopyTo(_message);
        try
        {
            using var json = JsonDocument.Parse(_message.AsMemory(0, message.Length));
            var root = json.RootElement;
            switch (root.TryGetProperty("event", out var e) ? e.GetString() : null)
            {
                case "media":
                    var media = root.GetProperty("media");
                    if (media.TryGetProperty("track", out var track) && track.GetString() is { } name && name != "inbound")
                        break; // only the caller's side feeds the pipeline
                    AddMedia(media.GetProperty("payload"), input);
                    break;
                case "start":
                    var start = root.GetProperty("start");
                    _streamSid = start.TryGetProperty("streamSid", out var sid) ? sid.GetString() : root.GetProperty("streamSid").GetString();
                    CallSid = start.TryGetProperty("callSid", out var call) ? call.GetString() : null;
                    if (start.TryGetProperty("customParameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object)
                        CustomParameters = parameters.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ToString(), StringComparer.Ordinal);
                    break;
                case "dtmf":
                    input.AddFrame(new InputDtmfFrame(root.GetProperty("dtmf").GetProperty("digit").GetString() ?? ""));
                    break;
                case "mark":
                    input.AddFrame(new InputTransportMessageFrame(root.Clone()));
                    break;
                case "stop":
                    input.AddFrame(new EndFrame { Reason = "Twilio stopped the stream" });
                    break;
                case "connected":
                    break;
                default:
                    InvalidMessages++;
                    break;
            }
        }
        catch (Exception exception) when (exception is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            InvalidMessages++;
        }
    }

    private void AddMedia(JsonElement payload, IDeserializedInput input)
    {
        var mulaw = payload.GetBytesFromBase64();
        if (_pcm.Length < 2 * mulaw.Length)
            _pcm = new byte[2 * mulaw.Length];
        for (var i = 0; i < mulaw.Length; i++)
        {
            var sample = MuLawDecoder.MuLawToLinearSample(mulaw[i]);
            _pcm[2 * i] = (byte)sample;
            _pcm[2 * i + 1] = (byte)(sample >> 8);
        }
        input.AddAudio(_pcm.AsSpan(0, 2 * mulaw.Length), SampleRate, 1);
    }

    /// <inheritdoc />
    public ValueTask SerializeAsync(Frame frame, IWireWriter writer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (_streamSid is not { } streamSid)
            return ValueTask.CompletedTask; // nothing reaches Twilio before it named the stream
        switch (frame)
        {
            case OutputAudioRawFrame audio:
                return SendMediaAsync(audio, streamSid, writer, cancellationToken);
            case InterruptionFrame:
                return writer.SendAsync(WireJson.Write(streamSid, static (w, sid) =>
                {
                    w.WriteStartObject();
                    w.WriteString("event", "clear");
                    w.WriteString("streamSid", sid);
                    w.WriteEndObject();
                }), WireMessageType.Text, cancellationToken);
            case TtsStoppedFrame stopped:
                var mark = stopped.ContextId ?? $"tts-{Interlocked.Increment(ref _marks)}";
                return writer.SendAsync(WireJson.Write((streamSid, mark), static (w, m) =>
                {
                    w.WriteStartObject();
                    w.WriteString("event", "mark");
                    w.WriteString("streamSid", m.streamSid);
                    w.WriteStartObject("mark");
                    w.WriteString("name", m.mark);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }), WireMessageType.Text, cancellationToken);
            case OutputTransportMessageFrame { Message: var message } when !IsRtvi(message):
                return writer.SendAsync(WireJson.Write(message), WireMessageType.Text, cancellationToken);
            case OutputTransportMessageUrgentFrame { Message: var urgent } when !IsRtvi(urgent):
                return writer.SendAsync(WireJson.Write(urgent), WireMessageType.Text, cancellationToken);
            default:
                return ValueTask.CompletedTask;
        }
    }

    private static bool IsRtvi(JsonElement message)
        => message.ValueKind == JsonValueKind.Object && message.TryGetProperty("label", out var label) && label.ValueKind == JsonValueKind.String && label.ValueEquals("rtvi-ai");

    private ValueTask SendMediaAsync(OutputAudioRawFrame audio, string streamSid, IWireWriter writer, CancellationToken cancellationToken)
    {
        var samples = _audio.Convert(audio);
        if (samples.IsEmpty)
            return ValueTask.CompletedTask;
        var mulaw = ArrayPool<byte>.Shared.Rent(samples.Length);
        for (var i = 0; i < samples.Length; i++)
            mulaw[i] = MuLawEncoder.LinearToMuLawSample(samples[i]);
        var buffer = new ArrayBufferWriter<byte>(samples.Length * 4 / 3 + 128);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("event", "media");
            json.WriteString("streamSid", streamSid);
            json.WriteStartObject("media");
            json.WriteBase64String("payload", mulaw.AsSpan(0, samples.Length));
            json.WriteEndObject();
            json.WriteEndObject();
        }
        ArrayPool<byte>.Shared.Return(mulaw);
        return writer.SendAsync(buffer.WrittenMemory, WireMessageType.Text, cancellationToken);
    }
}
