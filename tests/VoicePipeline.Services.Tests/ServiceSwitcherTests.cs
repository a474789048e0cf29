using VoicePipeline.Frames;
using VoicePipeline.Testing;

namespace VoicePipeline.Services.Tests;

public class ServiceSwitcherTests
{
    [Fact]
    public async Task A_switch_frame_sends_later_frames_to_the_other_service_in_order()
    {
        var first = new FakeTts(new TtsSettings { Voice = "a" }, "voice-a");
        var second = new FakeTts(new TtsSettings { Voice = "b" }, "voice-b");
        var switcher = new ServiceSwitcher(first, second);
        var speed = new TtsUpdateSettingsFrame { Speed = 1.5 };

        var result = await FrameProcessorHarness.RunAsync(switcher, [
            new TtsSpeakFrame("one."),
            new SwitchServiceFrame(second),
            new TtsSpeakFrame("two."),
            speed,
            new SwitchServiceFrame("voice-a"),
            new TtsSpeakFrame("three."),
        ], new HarnessOptions { AudioOutSampleRate = 24_000 });

        first.Requests.Select(r => r.Text).Should().Equal("one.", "three.");
        second.Requests.Select(r => r.Text).Should().Equal("two.");
        first.Requests[1].Settings.Speed.Should().Be(1.5, "settings reach the inactive services too");
        result.DownstreamOf<TtsAudioRawFrame>().Select(f => f.ContextId).Distinct().Should().BeEquivalentTo("voice-a-1", "voice-b-1", "voice-a-2");
        result.Downstream.AudioOf("voice-b-1").Should().Equal(FakeTts.SamplesOf("two."));
        result.DownstreamOf<TtsUpdateSettingsFrame>().Should().Equal(speed);
        result.DownstreamOf<SwitchServiceFrame>().Should().HaveCount(2);
        result.DownstreamOf<TtsStoppedFrame>().Should().HaveCount(3);
        switcher.ActiveService.Should().BeSameAs(first);
    }

    [Fact]
    public async Task A_switch_from_a_later_processor_upstream_takes_effect_too()
    {
        var first = new FakeTts(new TtsSettings(), "up-a");
        var second = new FakeTts(new TtsSettings(), "up-b");
        var switcher = new ServiceSwitcher(first, second);
        await using var harness = await FrameProcessorHarness.StartAsync(switcher, new HarnessOptions { AudioOutSampleRate = 24_000 });
        await harness.SendAsync(new SwitchServiceFrame(second), FrameDirection.Upstream);
        await harness.WaitForUpstreamAsync<SwitchServiceFrame>();
        await harness.SendAsync(new TtsSpeakFrame("after."));
        await harness.WaitForDownstreamAsync<TtsStoppedFrame>();
        await harness.EndAsync();

        first.Requests.Should().BeEmpty();
        second.Requests.Select(r => r.Text).Should().Equal("after.");
        switcher.ActiveService.Should().BeSameAs(second);
    }
}
