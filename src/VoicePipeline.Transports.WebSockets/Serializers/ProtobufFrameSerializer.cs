using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Google.Protobuf;
using VoicePipeline.Frames;
using Proto = VoicePipeline.Transports.WebSockets.Serializers.Protobuf;

namespace VoicePipeline.Transports.WebSockets.Serializers;

/// <summary>
/// Pipecat's wire, as its <c>ProtobufFrameSerializer</c> and the <c>@pipecat-ai/websocket-transport</c> client speak it:
/// every message is a binary <c>pipecat.Frame</c> (Pipecat's <c>frames.proto</c>) holding one of a text, audio,
/// transcription, message (JSON text: RTVI) or interruption frame.
/// </summary>
/// <remarks>
/// In: audio (PCM s16le at the rate and channel count the frame names), RTVI and other JSON messages as
/// <see cref="InputTransportMessageFrame"/>s, text as <see cref="Frames.TextFrame"/>, transcriptions as final
/// <see cref="Frames.TranscriptionFrame"/>s, interruptions. Out: pipeline audio as mono at <see cref="OutputSampleRate"/>
/// (24 kHz, the rate the Pipecat client's player runs at: it ignores the frame's rate), transport messages and
/// interruptions, as Pipecat's WebSocket transport output sends them; with <see cref="SendTextFrames"/> also
/// <see cref="Frames.TextFrame"/>s (exactly that type) and transcriptions (the JavaScript client drops those with an
/// error in its console: RTVI carries text to it).
/// </remarks>
public sealed class ProtobufFrameSerializer : IFrameSerializer
{
    /// <summary>The most channels client audio may have.</summary>
    public const int MaxChannels = 8;

    // The rates client audio may come at: every rate a browser or phone records at, each one the transport resamples.
    private static readonly uint[] s_sampleRates = [8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 88_200, 96_000];

    private readonly OutputAudioConverter _audio;

    /// <summary>Creates the serializer; bot audio leaves at <paramref name="outputSampleRate"/> mono.</summary>
    public ProtobufFrameSerializer(int outputSampleRate = 24_000) => _audio = new OutputAudioConverter(outputSampleRate);

    /// <summary>Gets the rate of the audio sent to the client.</summary>
    public int OutputSampleRate => _audio.OutputRate;

    /// <summary>Gets or sets whether <see cref="Frames.TextFrame"/>s and transcriptions go out as protobuf text and transcription frames (off by default).</summary>
    public bool SendTextFrames { get; set; }

    /// <summary>
    /// Gets how many messages were dropped because they were not a valid <c>pipecat.Frame</c> (or held invalid JSON, or
    /// audio at a rate other than 8 to 96 kHz's usual ones, or with more than <see cref="MaxChannels"/> channels).
    /// </summary>
    public int InvalidMessages { get; private set; }

    /// <inheritdoc />
    public void Setup(StartFrame start)
    {
    }

    /// <inheritdoc />
    public void Deserialize(ReadOnlySpan<byte> message, WireMessageType type, IDeserializedInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (type != WireMessageType.Binary)
        {
            InvalidMessages++;
            return;
        }
        Proto.Frame frame;
        try
        {
            frame = Proto.Frame.Parser.ParseFrom(message);
        }
        catch (InvalidProtocolBufferException)
        {
            InvalidMessages++;
            return;
        }
        switch (frame.FrameCase)
        {
            case Proto.Frame.FrameOneofCase.Audio:
                var audio = frame.Audio;
                var rate = audio.SampleRate == 0 ? 16_000u : audio.SampleRate;
                var channels = audio.NumChannels == 0 ? 1u : audio.NumChannels;
                if (Array.IndexOf(s_sampleRates, rate) < 0 || channels > MaxChannels)
                {
                    InvalidMessages++; // a rate the transport could not resample, or a channel count no microphone has
                    break;
                }
                input.AddAudio(audio.Audio.Span, (int)rate, (int)channels);
                break;
            case Proto.Frame.FrameOneofCase.Message:
                try
                {
                    using var json = JsonDocument.Parse(frame.Message.Data);
                    input.AddFrame(new InputTransportMessageFrame(json.RootElement.Clone()));
                }
                catch (JsonException)
                {
                    InvalidMessages++;
                }
                break;
            case Proto.Frame.FrameOneofCase.Text:
                input.AddFrame(new TextFrame(frame.Text.Text));
                break;
            case Proto.Frame.FrameOneofCase.Transcription:
                var t = frame.Transcription;
                var timestamp = DateTimeOffset.TryParse(t.Timestamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) ? parsed : DateTimeOffset.UtcNow;
                input.AddFrame(new TranscriptionFrame(t.Text, t.UserId, timestamp, finalized: true));
                break;
            case Proto.Frame.FrameOneofCase.Interruption:
                input.AddFrame(new InterruptionFrame());
                break;
            default:
                InvalidMessages++;
                break;
        }
    }

    /// <inheritdoc />
    public ValueTask SerializeAsync(Frame frame, IWireWriter writer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(frame);
        return frame switch
        {
            OutputAudioRawFrame audio => SendAudioAsync(audio, writer, cancellationToken),
            OutputTransportMessageUrgentFrame urgent => SendAsync(Message(urgent.Message), writer, cancellationToken),
            OutputTransportMessageFrame message => SendAsync(Message(message.Message), writer, cancellationToken),
            TranscriptionFrame transcription when SendTextFrames => SendAsync(new Proto.Frame
            {
                Transcription = new Proto.TranscriptionFrame
                {
                    Id = (ulong)frame.Id,
                    Name = frame.Name,
                    Text = transcription.Text,
                    UserId = transcription.UserId,
                    Timestamp = transcription.Timestamp.ToString("O", CultureInfo.InvariantCulture),
                },
            }, writer, cancellationToken),
            TextFrame text when SendTextFrames && text.GetType() == typeof(TextFrame) => SendAsync(new Proto.Frame { Text = new Proto.TextFrame { Id = (ulong)frame.Id, Name = frame.Name, Text = text.Text } }, writer, cancellationToken),
            InterruptionFrame => SendAsync(new Proto.Frame { Interruption = new Proto.InterruptionFrame { Id = (ulong)frame.Id, Name = frame.Name } }, writer, cancellationToken),
            _ => ValueTask.CompletedTask,
        };
    }

    private static Proto.Frame Message(JsonElement message)
        => new() { Message = new Proto.MessageFrame { Data = message.GetRawText() } };

    private ValueTask SendAudioAsync(OutputAudioRawFrame audio, IWireWriter writer, CancellationToken cancellationToken)
    {
        var samples = MemoryMarshal.AsBytes(_audio.Convert(audio));
        if (samples.IsEmpty)
            return ValueTask.CompletedTask;
        var pcm = ArrayPool<byte>.Shared.Rent(samples.Length);
        samples.CopyTo(pcm);
        var frame = new Proto.Frame
        {
            Audio = new Proto.AudioRawFrame
            {
                Id = (ulong)audio.Id,
                Audio = UnsafeByteOperations.UnsafeWrap(pcm.AsMemory(0, samples.Length)),
                SampleRate = (uint)OutputSampleRate,
                NumChannels = 1,
            },
        };
        return SendAndReturnAsync(frame, pcm, writer, cancellationToken);
    }

    private static async ValueTask SendAndReturnAsync(Proto.Frame frame, byte[] pcm, IWireWriter writer, CancellationToken cancellationToken)
    {
        try
        {
            await SendAsync(frame, writer, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(pcm);
        }
    }

    private static ValueTask SendAsync(Proto.Frame frame, IWireWriter writer, CancellationToken cancellationToken)
    {
        var size = frame.CalculateSize();
        var bytes = ArrayPool<byte>.Shared.Rent(size);
        frame.WriteTo(bytes.AsSpan(0, size));
        return WireJson.SendRentedAsync(writer, bytes, size, WireMessageType.Binary, cancellationToken);
    }
}
