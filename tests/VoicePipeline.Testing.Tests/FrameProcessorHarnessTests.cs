using VoicePipeline.Frames;
using VoicePipeline.Pipelines;
using VoicePipeline.Processors;

namespace VoicePipeline.Testing.Tests;

public class FrameProcessorHarnessTests
{
    [Fact]
    public async Task Records_what_the_processor_pushes_in_each_direction()
    {
        var result = await FrameProcessorHarness.RunAsync(new EchoUpstream(), [new TextFrame("a"), new TextFrame("b")]);

        result.DownstreamOf<TextFrame>().Select(t => t.Text).Should().Equal("a", "b");
        result.UpstreamOf<TextFrame>().Select(t => t.Text).Should().Equal("echo a", "echo b");
        result.Downstream.Should().NotContain(f => f is StartFrame || f is EndFrame);
    }

    [Fact]
    public async Task Waits_for_frames_that_already_arrived_or_are_still_to_come()
    {
        await using var harness = await FrameProcessorHarness.StartAsync(new EchoUpstream());
        await harness.SendAsync(new TextFrame("first"));
        var first = await harness.WaitForDownstreamAsync<TextFrame>();

        var later = harness.WaitForUpstreamAsync<TextFrame>(t => t.Text == "echo second");
        await harness.SendAsync(new TextFrame("second"));

        first.Text.Should().Be("first");
        (await later).Text.Should().Be("echo second");
        (await harness.EndAsync()).Should().Be(PipelineCompletion.Ended);
    }

    [Fact]
    public async Task A_wait_that_times_out_says_what_did_arrive()
    {
        await using var harness = await FrameProcessorHarness.StartAsync(new EchoUpstream());
        await harness.SendAsync(new TextFrame("only this"));
        await harness.WaitForDownstreamAsync<TextFrame>();

        var wait = () => harness.WaitForDownstreamAsync<TranscriptionFrame>(timeout: TimeSpan.FromMilliseconds(50));

        (await wait.Should().ThrowAsync<TimeoutException>()).Which.Message.Should().Contain("only this");
    }

    [Fact]
    public async Task Frames_sent_upstream_enter_the_processor_from_below()
    {
        await using var harness = await FrameProcessorHarness.StartAsync(new EchoUpstream());

        await harness.SendAsync(new TextFrame("from below"), FrameDirection.Upstream);

        (await harness.WaitForUpstreamAsync<TextFrame>()).Text.Should().Be("from below");
        harness.Downstream.Should().BeEmpty();
    }

    /// <summary>Passes text on and echoes it upstream.</summary>
    private sealed class EchoUpstream : FrameProcessor
    {
        protected override async ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
        {
            await PushFrameAsync(frame, direction, cancellationToken);
            if (frame is TextFrame text && direction == FrameDirection.Downstream)
                await PushFrameAsync(new TextFrame("echo " + text.Text), FrameDirection.Upstream, cancellationToken);
        }
    }
}
