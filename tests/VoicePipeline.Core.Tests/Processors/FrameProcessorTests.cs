using VoicePipeline.Frames;
using VoicePipeline.Pipelines;
using VoicePipeline.Testing;

namespace VoicePipeline.Core.Tests.Processors;

public class FrameProcessorTests
{
    [Fact]
    public async Task System_frame_overtakes_queued_data_frames()
    {
        var gate = new GateProcessor();
        await using var harness = await FrameProcessorHarness.StartAsync(gate);

        await harness.SendAsync(new TextFrame("one"));
        await gate.FirstHeld.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await harness.SendAsync(new TextFrame("two"));
        await harness.SendAsync(new TextFrame("three"));
        var ping = new PingFrame();
        await harness.SendAsync(ping);

        await harness.WaitForDownstreamAsync<PingFrame>();
        harness.Downstream.Should().Equal(ping); // the data frames are still queued behind the held one

        gate.Open();
        await harness.EndAsync();
        harness.Downstream.Select(f => f is TextFrame t ? t.Text : "ping").Should().Equal("ping", "one", "two", "three");
    }

    [Fact]
    public async Task Interruption_cancels_in_flight_work_drops_queued_data_and_keeps_uninterruptible_frames()
    {
        var gate = new GateProcessor();
        await using var harness = await FrameProcessorHarness.StartAsync(gate);

        await harness.SendAsync(new TextFrame("in flight"));
        await gate.FirstHeld.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await harness.SendAsync(new TextFrame("queued"));
        var settings = new SttUpdateSettingsFrame { Language = "fr" };
        await harness.SendAsync(settings);
        await harness.SendAsync(new InterruptionFrame());

        (await gate.FirstCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10))).Should().BeTrue();
        await harness.WaitForDownstreamAsync<SttUpdateSettingsFrame>();

        gate.Open();
        await harness.SendAsync(new TextFrame("after"));
        await harness.WaitForDownstreamAsync<TextFrame>(t => t.Text == "after");
        await harness.EndAsync();

        harness.Downstream.Should().ContainSingle(f => f is InterruptionFrame);
        harness.Downstream.Should().ContainSingle(f => f == settings);
        harness.Downstream.OfType<TextFrame>().Select(t => t.Text).Should().Equal("after");
    }

    [Fact]
    public async Task End_frame_drains_everything_queued_before_it()
    {
        var frames = Enumerable.Range(0, 500).Select(i => new TextFrame(i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray();

        var result = await FrameProcessorHarness.RunAsync(new TagProcessor("t"), frames);

        result.DownstreamOf<TextFrame>().Select(t => t.Text).Should().Equal(frames.Select(f => f.Text + ":t"));
    }

    [Fact]
    public async Task Cancel_frame_is_immediate_and_drops_queued_work()
    {
        var gate = new GateProcessor();
        await using var harness = await FrameProcessorHarness.StartAsync(gate);
        await harness.SendAsync(new TextFrame("held"));
        await gate.FirstHeld.Task.WaitAsync(TimeSpan.FromSeconds(10));
        for (var i = 0; i < 100; i++)
            await harness.SendAsync(new TextFrame("queued"));

        var completion = await harness.CancelAsync();

        completion.Should().Be(PipelineCompletion.Cancelled);
        (await gate.FirstCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10))).Should().BeTrue();
        harness.Downstream.OfType<TextFrame>().Should().BeEmpty();
    }

    [Fact]
    public async Task Exception_becomes_an_upstream_error_frame_and_processing_goes_on()
    {
        var result = await FrameProcessorHarness.RunAsync(new ThrowingProcessor(),
            [new TextFrame("before"), new TextFrame("boom"), new TextFrame("after")]);

        var error = result.UpstreamOf<ErrorFrame>().Should().ContainSingle().Subject;
        error.Exception.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Be("kaboom");
        error.Fatal.Should().BeFalse();
        error.Processor.Should().StartWith(nameof(ThrowingProcessor));
        result.DownstreamOf<TextFrame>().Select(t => t.Text).Should().Equal("before", "after");
        result.Errors.Should().ContainSingle().Which.Should().BeSameAs(error);
    }

    [Fact]
    public async Task A_processor_runs_in_one_pipeline_only()
    {
        var processor = new TagProcessor("x");
        await using var harness = await FrameProcessorHarness.StartAsync(processor);

        var again = () => processor.SetupAsync(new VoicePipeline.Processors.FrameProcessorSetup()).AsTask();

        await again.Should().ThrowAsync<InvalidOperationException>();
    }
}
