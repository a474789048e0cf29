using VoicePipeline.Frames;
using VoicePipeline.Pipelines;
using VoicePipeline.Testing;

namespace VoicePipeline.Core.Tests.Pipelines;

public class PipelineTests
{
    [Fact]
    public async Task Nested_pipelines_keep_order_and_carry_errors_upstream()
    {
        var pipeline = new Pipeline(new TagProcessor("a"), new Pipeline(new TagProcessor("b"), new ThrowingProcessor(), new TagProcessor("c")), new TagProcessor("d"));

        var result = await FrameProcessorHarness.RunAsync(pipeline, [new TextFrame("x"), new TextFrame("y")]);

        result.DownstreamOf<TextFrame>().Select(t => t.Text).Should().Equal("x:a:b:c:d", "y:a:b:c:d");
        result.Errors.Should().BeEmpty();
    }

    [Fact]
    public async Task Errors_inside_a_nested_pipeline_leave_it_upstream()
    {
        var pipeline = new Pipeline(new Pipeline(new Pipeline(new ThrowingProcessor()), new TagProcessor("inner")), new TagProcessor("outer"));

        var result = await FrameProcessorHarness.RunAsync(pipeline, [new TextFrame("boom"), new TextFrame("ok")]);

        result.UpstreamOf<ErrorFrame>().Should().ContainSingle().Which.Message.Should().Contain("kaboom");
        result.DownstreamOf<TextFrame>().Select(t => t.Text).Should().Equal("ok:inner:outer");
    }

    [Fact]
    public async Task Parallel_pipeline_fans_out_and_forwards_pass_through_frames_once()
    {
        var parallel = new ParallelPipeline([new TagProcessor("left")], [new TagProcessor("right")]);

        var result = await FrameProcessorHarness.RunAsync(parallel, [new TextFrame("x"), new PingFrame()]);

        result.DownstreamOf<TextFrame>().Select(t => t.Text).Should().BeEquivalentTo("x:left", "x:right");
        result.DownstreamOf<PingFrame>().Should().ContainSingle();
    }

    [Fact]
    public async Task Parallel_pipeline_lets_the_end_frame_out_once_after_every_branch_passed_it()
    {
        var slow = new GateProcessor();
        var fastProbe = new EndProbe();
        var parallel = new ParallelPipeline([slow], [fastProbe]);
        var ends = 0;
        await using var harness = await FrameProcessorHarness.StartAsync(parallel);
        harness.Task.FrameReachedEnd += (_, f) =>
        {
            if (f is EndFrame)
                Interlocked.Increment(ref ends);
        };

        await harness.SendAsync(new TextFrame("x"));
        await slow.FirstHeld.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var ending = harness.EndAsync();
        await fastProbe.EndSeen.Task.WaitAsync(TimeSpan.FromSeconds(10));

        harness.Completion.IsCompleted.Should().BeFalse("the slow branch has not passed the end frame yet");

        slow.Open();
        (await ending).Should().Be(PipelineCompletion.Ended);
        ends.Should().Be(1);
        harness.Downstream.OfType<TextFrame>().Should().ContainSingle("both branches pass the same frame through; it leaves once");
    }
}
