using VoicePipeline.Frames;
using VoicePipeline.Processors;

namespace VoicePipeline.Transports.WebSockets;

/// <summary>
/// Sends the pipeline's output to the client through the session's serializer (audio, transcripts, spoken text, events
/// and transport messages, as that wire spells them). Data and control frames are sent from the process loop, system
/// frames (speaking events, interruptions, urgent messages) from the input loop as they arrive. Every frame passes on.
/// </summary>
internal sealed class WebSocketTransportOutput(WebSocketSession session) : FrameProcessor("WebSocketTransportOutput")
{
    protected override ValueTask OnStartAsync(StartFrame frame, CancellationToken cancellationToken)
    {
        session.Serializer.Setup(frame); // the input's pump sets it up too, on its own task: whichever comes first
        return ValueTask.CompletedTask;
    }

    protected override ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
        => SendAndPushAsync(frame, direction, cancellationToken);

    protected override ValueTask ProcessSystemFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
        => SendAndPushAsync(frame, direction, cancellationToken);

    private async ValueTask SendAndPushAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        if (direction == FrameDirection.Downstream)
            await session.Serializer.SerializeAsync(frame, session, cancellationToken).ConfigureAwait(false);
        await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
    }
}
