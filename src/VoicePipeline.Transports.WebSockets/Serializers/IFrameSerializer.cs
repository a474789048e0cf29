using VoicePipeline.Frames;

namespace VoicePipeline.Transports.WebSockets.Serializers;

/// <summary>Whether a WebSocket message is text (UTF-8) or binary.</summary>
public enum WireMessageType
{
    /// <summary>A UTF-8 text message.</summary>
    Text,

    /// <summary>A binary message.</summary>
    Binary,
}

/// <summary>
/// Turns a wire's messages into frames and frames into messages, so one WebSocket transport serves every wire: the
/// project's raw PCM + JSON events (<see cref="RawPcmSerializer"/>), Pipecat's protobuf frames
/// (<see cref="ProtobufFrameSerializer"/>) and Twilio Media Streams (<see cref="TwilioFrameSerializer"/>).
/// </summary>
/// <remarks>
/// One instance serves one connection. <see cref="Deserialize"/> runs on the transport input's receive loop only;
/// <see cref="SerializeAsync"/> runs on the transport output, where system frames (interruptions, speaking events,
/// urgent messages) may arrive on another loop than data frames, so an implementation keeps no unguarded state shared
/// between the two kinds.
/// </remarks>
public interface IFrameSerializer
{
    /// <summary>Learns the pipeline's rates from its start frame, before any message is serialized or deserialized.</summary>
    void Setup(StartFrame start);

    /// <summary>
    /// Turns one whole message from the client into audio and frames, handed to <paramref name="input"/> in wire order.
    /// A message the wire defines but that carries nothing for the pipeline (a handshake, a keep-alive) adds nothing.
    /// </summary>
    void Deserialize(ReadOnlySpan<byte> message, WireMessageType type, IDeserializedInput input);

    /// <summary>
    /// Sends the messages <paramref name="frame"/> stands for on the wire through <paramref name="writer"/> (none for a
    /// frame the wire has no message for). Buffers passed to the writer may be reused once it returns.
    /// </summary>
    ValueTask SerializeAsync(Frame frame, IWireWriter writer, CancellationToken cancellationToken = default);
}

/// <summary>Where a serializer puts what a client's message carries.</summary>
public interface IDeserializedInput
{
    /// <summary>
    /// Adds client audio: PCM s16le, interleaved, any length (a sample may be split across two calls); the transport
    /// resamples it to the pipeline's rate and cuts it into 20 ms <see cref="InputAudioRawFrame"/>s.
    /// </summary>
    void AddAudio(ReadOnlySpan<byte> pcm, int sampleRate, int channels);

    /// <summary>
    /// Adds a frame, pushed downstream after the audio added before it. An <see cref="EndFrame"/> ends the client's
    /// stream like a close of the socket.
    /// </summary>
    void AddFrame(Frame frame);
}

/// <summary>Sends messages to the client.</summary>
public interface IWireWriter
{
    /// <summary>Sends one whole message; messages never interleave.</summary>
    ValueTask SendAsync(ReadOnlyMemory<byte> message, WireMessageType type, CancellationToken cancellationToken = default);
}
