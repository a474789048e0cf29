using VoicePipeline.Frames;

namespace VoicePipeline.Transports.WebSockets;

/// <summary>
/// Sends the pipeline's output to the client through the session's serializer (audio, transcripts, spoken text, events
/// and transport messages, as that wire spells them). Audio is played out in real time in 20 ms chunks by the
/// <see cref="OutputTransport"/> base, which also says when the bot speaks; data and control frames are sent in step
/// with the audio before them (spoken words as they play), system frames (speaking events, interruptions, urgent
/// messages) as they arrive; an interruption drops the queued audio and its frame tells the client to stop playing.
/// Every frame passes on.
/// </summary>
internal sealed class WebSocketTransportOutput(WebSocketSession session) : OutputTransport(session.Options.Output, "WebSocketTransportOutput")
{
    protected override ValueTask OnStartAsync(StartFrame frame, CancellationToken cancellationToken)
    {
        session.Serializer.Setup(frame); // the input's pump sets it up too, on its own task: whichever comes first
        return base.OnStartAsync(frame, cancellationToken);
    }

    protected override ValueTask WriteAudioAsync(ReadOnlyMemory<byte> audio, int sampleRate, int channels, CancellationToken cancellationToken)
        => session.Serializer.SerializeAsync(new OutputAudioRawFrame(audio, sampleRate, channels), session, cancellationToken);

    protected override ValueTask OnFrameOutAsync(Frame frame, CancellationToken cancellationToken)
        => frame is OutputAudioRawFrame // already sent chunk by chunk as it played
            ? ValueTask.CompletedTask
            : session.Serializer.SerializeAsync(frame, session, cancellationToken);
}
