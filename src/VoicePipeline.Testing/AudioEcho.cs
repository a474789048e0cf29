using VoicePipeline.Frames;
using VoicePipeline.Processors;

namespace VoicePipeline.Testing;

/// <summary>
/// Plays the user's audio back: each <see cref="InputAudioRawFrame"/> is followed by an <see cref="OutputAudioRawFrame"/>
/// of the same samples. For trying transports end to end (what goes in must come out).
/// </summary>
public sealed class AudioEcho(string? name = null) : FrameProcessor(name)
{
    /// <inheritdoc />
    protected override async ValueTask ProcessSystemFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
        if (frame is InputAudioRawFrame audio)
            await PushFrameAsync(new OutputAudioRawFrame(audio.Audio, audio.SampleRate, audio.Channels), direction, cancellationToken).ConfigureAwait(false);
    }
}
