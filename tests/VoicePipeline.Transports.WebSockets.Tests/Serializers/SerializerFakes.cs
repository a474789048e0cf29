using VoicePipeline.Frames;
using VoicePipeline.Transports.WebSockets.Serializers;

namespace VoicePipeline.Transports.WebSockets.Tests.Serializers;

/// <summary>Collects what a serializer deserialized: audio (bytes concatenated, with the rates named) and frames.</summary>
internal sealed class CollectedInput : IDeserializedInput
{
    public MemoryStream Audio { get; } = new();

    public List<(int SampleRate, int Channels)> Formats { get; } = [];

    public List<Frame> Frames { get; } = [];

    public void AddAudio(ReadOnlySpan<byte> pcm, int sampleRate, int channels)
    {
        Audio.Write(pcm);
        Formats.Add((sampleRate, channels));
    }

    public void AddFrame(Frame frame) => Frames.Add(frame);
}

/// <summary>Collects the messages a serializer sent (copied: the serializer may reuse its buffers).</summary>
internal sealed class CollectedMessages : IWireWriter
{
    public List<(byte[] Bytes, WireMessageType Type)> Messages { get; } = [];

    public ValueTask SendAsync(ReadOnlyMemory<byte> message, WireMessageType type, CancellationToken cancellationToken = default)
    {
        Messages.Add((message.ToArray(), type));
        return ValueTask.CompletedTask;
    }
}
