using VoicePipeline.Frames;

namespace VoicePipeline.Core.Tests.Frames;

public class FrameTests
{
    [Fact]
    public void Frames_get_unique_ids_and_readable_names()
    {
        var a = new TextFrame("a");
        var b = new TranscriptionFrame("b", "user", DateTimeOffset.UnixEpoch, "en", finalized: true);

        b.Id.Should().BeGreaterThan(a.Id);
        b.Name.Should().Be($"TranscriptionFrame#{b.Id}");
        a.HasMetadata.Should().BeFalse();
        a.Metadata["k"] = 1;
        a.HasMetadata.Should().BeTrue();
    }

    [Fact]
    public void Frame_kinds_follow_the_design()
    {
        new InputAudioRawFrame(new byte[640], 16000).Should().BeAssignableTo<SystemFrame>();
        new UserStoppedSpeakingFrame().Should().BeAssignableTo<SystemFrame>();
        new ErrorFrame("x").Should().BeAssignableTo<SystemFrame>();
        new OutputAudioRawFrame(new byte[640], 16000).Should().BeAssignableTo<DataFrame>();
        new EndFrame().Should().BeAssignableTo<ControlFrame>().And.BeAssignableTo<IUninterruptibleFrame>();
        new SttUpdateSettingsFrame().Should().BeAssignableTo<IUninterruptibleFrame>();
        new TextFrame("x").Should().NotBeAssignableTo<IUninterruptibleFrame>();
    }

    [Fact]
    public void Audio_frames_reject_partial_samples()
    {
        var act = () => new InputAudioRawFrame(new byte[3], 16000, 1);
        act.Should().Throw<ArgumentException>().WithMessage("*not a whole number*");
        new InputAudioRawFrame(new byte[640], 16000).Duration.Should().Be(TimeSpan.FromMilliseconds(20));
    }

    [Fact]
    public void Speaking_frames_compute_when_speech_really_happened()
    {
        var stopped = new UserStoppedSpeakingFrame { Timestamp = TimeSpan.FromSeconds(3), StopSecs = 0.8 };
        stopped.SpeechEnd.Should().Be(TimeSpan.FromSeconds(2.2));
        new UserStartedSpeakingFrame { Timestamp = TimeSpan.FromSeconds(1), StartSecs = 0.2 }.SpeechStart.Should().Be(TimeSpan.FromSeconds(0.8));
    }

    [Fact]
    public void Vad_params_are_validated()
    {
        new Vad.VadParams().Validate().Confidence.Should().Be(0.7);
        var act = () => new Vad.VadParams { Confidence = 1.5 }.Validate();
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Confidence");
    }
}
