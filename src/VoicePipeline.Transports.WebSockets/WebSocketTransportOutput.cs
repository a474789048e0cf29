using VoicePipeline.Frames;

namespace VoicePipeline.Transports.WebSockets;

/// <summary>
/// Sends the pipeline's output to the client through the session's serializer, as that wire spells it: audio played
/// out in real time in small chunks by the <see cref="OutputTransport"/> base (so barge-in stops what the client would
/// hear next), and transcripts, spoken text (as it plays), events and transport messages as they leave the base.
/// Every frame passes on.
/// </summary>
internal sealed class WebSocketTransportOutput(WebSocketSession session) : OutputTransport(name: "WebSocketTransportOutput")
{
    protected override async ValueTask OnStartAsync(StartFrame frame, CancellationToken cancellationToken)
    {
        session.Serializer.Setup(frame); // the input's pump sets it up too, on its own task: whichever comes first
        await base.OnStartAsync(frame, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every frame leaving the base, the interruption included (the wire tells the client to drop what it holds).</summary>
    protected override ValueTask OnFrameOutAsync(Frame frame, CancellationToken cancellationToken)
        => session.Serializer.SerializeAsync(frame, session, cancellationToken);

    protected override ValueTask WriteAudioAsync(ReadOnlyMemory<byte> audio, int sampleRate, int channels, CancellationToken cancellationToken)
        => session.Serializer.SerializeAsync(new OutputAudioRawFrame(audio, sampleRate, channels), session, cancellationToken);
}
