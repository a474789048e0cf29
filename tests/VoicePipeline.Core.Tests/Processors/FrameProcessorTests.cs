using VoicePipeline.Frames;
using VoicePipeline.Pipelines;
using VoicePipeline.Processors;
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

    [Fact]
    public async Task Handlers_are_never_reentered_under_interleaved_system_and_data_frames()
    {
        var probe = new ReentrancyProbe();
        await using var harness = await FrameProcessorHarness.StartAsync(probe);

        const int Count = 2000;
        var data = Task.Run(async () =>
        {
            for (var i = 0; i < Count; i++)
                await harness.SendAsync(new TextFrame(i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        });
        var system = Task.Run(async () =>
        {
            for (var i = 0; i < Count; i++)
                await harness.SendAsync(i % 100 == 99 ? new InterruptionFrame() : new PingFrame());
        });
        await Task.WhenAll(data, system);
        await harness.EndAsync();

        probe.DataOverlaps.Should().Be(0, "ProcessFrameAsync and OnInterruptedAsync share the process loop");
        probe.SystemOverlaps.Should().Be(0, "ProcessSystemFrameAsync runs on the input loop, one frame at a time");
        probe.SystemFramesSeen.Should().Be(Count);
        probe.Interruptions.Should().BeInRange(1, Count / 100, "back-to-back interruptions reset once");
        // How many data frames an interruption drops depends on timing (all of them, when the last one comes after
        // the last data frame): each one the handler saw went on, but for one per interruption cut off in the handler.
        var passed = harness.Downstream.OfType<TextFrame>().Count();
        probe.DataFramesSeen.Should().BeInRange(passed, passed + probe.Interruptions);
        probe.DataFramesSeen.Should().BeLessThanOrEqualTo(Count);
        probe.SawSystemFrameInDataHandler.Should().BeFalse();
        probe.SawDataFrameInSystemHandler.Should().BeFalse();
        var order = harness.Downstream.OfType<TextFrame>().Select(t => int.Parse(t.Text, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        order.Should().BeInAscendingOrder("data frames keep their order, an interruption only drops some");
    }

    [Fact]
    public async Task Nothing_the_interrupted_work_pushes_follows_the_interruption_downstream()
    {
        for (var round = 0; round < 20; round++)
        {
            var producer = new BusyProducer();
            await using var harness = await FrameProcessorHarness.StartAsync(producer);
            await harness.SendAsync(new TextFrame("go"));
            await producer.Producing.Task.WaitAsync(TimeSpan.FromSeconds(10));

            await harness.SendAsync(new InterruptionFrame());
            await producer.Stopped.Task.WaitAsync(TimeSpan.FromSeconds(10));
            await harness.SendAsync(new TextFrame("after"));
            await harness.WaitForDownstreamAsync<TextFrame>(t => t.Text == "after");
            await harness.EndAsync();

            var frames = harness.Downstream.ToList();
            var interruption = frames.FindIndex(f => f is InterruptionFrame);
            interruption.Should().BeGreaterThan(0);
            frames.Skip(interruption).OfType<TextFrame>().Select(t => t.Text).Should().Equal(["after"],
                "the interrupted work's output is dropped once the interruption has been pushed on");
            producer.ResetsSeen.Should().Be(1);
        }
    }

    /// <summary>Counts overlapping entries into each handler; yields inside so overlaps would have room to happen.</summary>
    private sealed class ReentrancyProbe : FrameProcessor
    {
        private int _inData;
        private int _inSystem;

        public int DataOverlaps;
        public int SystemOverlaps;
        public int DataFramesSeen;
        public int SystemFramesSeen;
        public int Interruptions;
        public bool SawSystemFrameInDataHandler;
        public bool SawDataFrameInSystemHandler;

        protected override async ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
        {
            await EnterDataAsync();
            SawSystemFrameInDataHandler |= frame is SystemFrame;
            if (frame is TextFrame)
                DataFramesSeen++;
            Interlocked.Decrement(ref _inData);
            await PushFrameAsync(frame, direction, cancellationToken);
        }

        protected override async ValueTask OnInterruptedAsync(CancellationToken cancellationToken)
        {
            await EnterDataAsync();
            Interruptions++;
            Interlocked.Decrement(ref _inData);
        }

        protected override async ValueTask ProcessSystemFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _inSystem) > 1)
                Interlocked.Increment(ref SystemOverlaps);
            await Task.Yield();
            SawDataFrameInSystemHandler |= frame is not SystemFrame;
            if (frame is PingFrame or InterruptionFrame)
                SystemFramesSeen++;
            Interlocked.Decrement(ref _inSystem);
            await PushFrameAsync(frame, direction, cancellationToken);
        }

        private async ValueTask EnterDataAsync()
        {
            if (Interlocked.Increment(ref _inData) > 1)
                Interlocked.Increment(ref DataOverlaps);
            await Task.Yield();
        }
    }

    /// <summary>On "go", pushes text frames as fast as it can until its token is cancelled, never checking before a push.</summary>
    private sealed class BusyProducer : FrameProcessor
    {
        public TaskCompletionSource Producing { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Stopped { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int ResetsSeen { get; private set; }

        protected override async ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
        {
            if (frame is not TextFrame { Text: "go" })
            {
                await PushFrameAsync(frame, direction, cancellationToken);
                return;
            }
            for (var i = 0; !cancellationToken.IsCancellationRequested || i < 1; i++)
            {
                _ = PushFrameAsync(new TextFrame("w" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)), direction, cancellationToken);
                if (i == 100)
                    Producing.TrySetResult();
                if (i % 64 == 0)
                    await Task.Yield();
            }
            // One more push after the cancellation was seen: it must be dropped too.
            _ = PushFrameAsync(new TextFrame("late"), direction, cancellationToken);
            Stopped.TrySetResult();
        }

        protected override ValueTask OnInterruptedAsync(CancellationToken cancellationToken)
        {
            ResetsSeen++;
            return ValueTask.CompletedTask;
        }
    }
}
