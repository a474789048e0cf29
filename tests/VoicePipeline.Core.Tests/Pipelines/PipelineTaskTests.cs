using System.Diagnostics.Metrics;
using Microsoft.Extensions.Time.Testing;
using VoicePipeline.Frames;
using VoicePipeline.Metrics;
using VoicePipeline.Observers;
using VoicePipeline.Pipelines;
using VoicePipeline.Processors;
using VoicePipeline.Testing;

namespace VoicePipeline.Core.Tests.Pipelines;

public class PipelineTaskTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Queued_frames_wait_for_start_and_end_frame_finishes_the_run()
    {
        var task = new PipelineTask(new Pipeline(new TagProcessor("a")));
        var reached = new List<Frame>();
        task.FrameReachedEnd += (_, f) => { lock (reached) reached.Add(f); };
        await task.QueueFrameAsync(new TextFrame("x"));
        await task.StopWhenDoneAsync();

        (await task.RunAsync().WaitAsync(Generous)).Should().Be(PipelineCompletion.Ended);

        reached.Select(f => f.GetType()).Should().Equal(typeof(StartFrame), typeof(TextFrame), typeof(EndFrame));
    }

    [Fact]
    public async Task Idle_timeout_cancels_after_no_activity_and_activity_resets_it()
    {
        var time = new FakeTimeProvider();
        var task = new PipelineTask(new Pipeline(new TagProcessor("a")), new PipelineTaskOptions { TimeProvider = time, IdleTimeout = TimeSpan.FromSeconds(10) });
        var idle = 0;
        task.Idle += (_, _) => idle++;
        var textReachedEnd = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        task.FrameReachedEnd += (_, f) => { if (f is TextFrame) textReachedEnd.TrySetResult(); };
        var run = task.RunAsync();
        await task.Started.WaitAsync(Generous);

        time.Advance(TimeSpan.FromSeconds(6));
        await task.QueueFrameAsync(new TextFrame("activity"));
        await textReachedEnd.Task.WaitAsync(Generous);
        time.Advance(TimeSpan.FromSeconds(6));
        idle.Should().Be(0, "activity 6 s ago reset the 10 s idle timer");
        run.IsCompleted.Should().BeFalse();

        time.Advance(TimeSpan.FromSeconds(4));

        (await run.WaitAsync(Generous)).Should().Be(PipelineCompletion.Cancelled);
        idle.Should().Be(1);
    }

    [Theory]
    [InlineData(FatalErrorPolicy.Cancel, PipelineCompletion.Cancelled)]
    [InlineData(FatalErrorPolicy.End, PipelineCompletion.Ended)]
    public async Task Fatal_error_policy_decides_how_the_run_ends(FatalErrorPolicy policy, PipelineCompletion expected)
    {
        var task = new PipelineTask(new Pipeline(new FatalOnText()), new PipelineTaskOptions { FatalErrorPolicy = policy });
        await task.QueueFrameAsync(new TextFrame("x"));

        (await task.RunAsync().WaitAsync(Generous)).Should().Be(expected);

        task.FatalError.Should().NotBeNull();
        task.FatalError!.Category.Should().Be(ErrorCategory.Authentication);
    }

    [Fact]
    public async Task Fatal_error_with_continue_policy_keeps_running()
    {
        var task = new PipelineTask(new Pipeline(new FatalOnText()), new PipelineTaskOptions { FatalErrorPolicy = FatalErrorPolicy.Continue });
        var errors = new TaskCompletionSource<ErrorFrame>(TaskCreationOptions.RunContinuationsAsynchronously);
        task.ErrorReceived += (_, e) => errors.TrySetResult(e);
        await task.QueueFrameAsync(new TextFrame("x"));
        var run = task.RunAsync();

        await errors.Task.WaitAsync(Generous);
        run.IsCompleted.Should().BeFalse();
        await task.StopWhenDoneAsync();
        (await run.WaitAsync(Generous)).Should().Be(PipelineCompletion.Ended);
    }

    [Fact]
    public async Task A_blocked_observer_never_slows_the_pipeline()
    {
        var observer = new BlockedObserver();
        var options = new PipelineTaskOptions { ObserverQueueCapacity = 8, ShutdownTimeout = TimeSpan.FromMilliseconds(200) };
        options.Observers.Add(observer);
        var task = new PipelineTask(new Pipeline(new TagProcessor("a"), new TagProcessor("b")), options);
        await task.QueueFramesAsync(Enumerable.Range(0, 2000).Select(_ => new TextFrame("x")));
        await task.StopWhenDoneAsync();

        (await task.RunAsync().WaitAsync(Generous)).Should().Be(PipelineCompletion.Ended);

        observer.Calls.Should().Be(1, "the observer is stuck in its first call while the pipeline ran to the end");
    }

    [Fact]
    public async Task Observers_see_every_push_between_processors()
    {
        var observer = new CollectingObserver();
        var options = new PipelineTaskOptions();
        options.Observers.Add(observer);
        var a = new TagProcessor("a");
        var b = new TagProcessor("b");
        var task = new PipelineTask(new Pipeline(a, b), options);
        await task.QueueFrameAsync(new TextFrame("x"));
        await task.StopWhenDoneAsync();

        await task.RunAsync().WaitAsync(Generous);

        observer.Pushes.Should().Contain(p => p.Source == a && p.Destination == b && p.Frame is TextFrame);
    }

    [Fact]
    public async Task Shutdown_with_a_processor_that_ignores_cancellation_completes_within_its_timeout()
    {
        var stuck = new StuckProcessor();
        var task = new PipelineTask(new Pipeline(stuck), new PipelineTaskOptions { ShutdownTimeout = TimeSpan.FromMilliseconds(300) });
        await task.QueueFrameAsync(new TextFrame("x"));
        var run = task.RunAsync();
        await stuck.Entered.Task.WaitAsync(Generous);

        await task.CancelAsync();

        (await run.WaitAsync(Generous)).Should().Be(PipelineCompletion.Cancelled);
        task.StuckProcessors.Should().ContainSingle().Which.Should().BeSameAs(stuck);
    }

    [Fact]
    public async Task Cancel_that_cannot_reach_the_end_is_abandoned_after_the_cancel_timeout()
    {
        var stuck = new StuckProcessor(stuckOnSystemFrames: true);
        var task = new PipelineTask(new Pipeline(stuck), new PipelineTaskOptions
        {
            CancelTimeout = TimeSpan.FromMilliseconds(300),
            ShutdownTimeout = TimeSpan.FromMilliseconds(300),
        });
        var run = task.RunAsync();
        await task.Started.WaitAsync(Generous);
        await task.QueueFrameAsync(new PingFrame());
        await stuck.Entered.Task.WaitAsync(Generous);

        using var cts = new CancellationTokenSource();
        await task.CancelAsync();
        (await run.WaitAsync(Generous)).Should().Be(PipelineCompletion.Abandoned);
    }

    [Fact]
    public async Task Runner_cancels_on_first_request_and_stops_waiting_on_the_second()
    {
        var stuck = new StuckProcessor(stuckOnSystemFrames: true);
        var task = new PipelineTask(new Pipeline(stuck), new PipelineTaskOptions { CancelTimeout = TimeSpan.FromHours(1), ShutdownTimeout = TimeSpan.FromHours(1) });
        var runner = new PipelineRunner(handleSignals: false);
        var run = runner.RunAsync(task);
        await task.Started.WaitAsync(Generous);
        await task.QueueFrameAsync(new PingFrame());
        await stuck.Entered.Task.WaitAsync(Generous);

        runner.RequestShutdown();
        run.IsCompleted.Should().BeFalse("the cancellation is stuck behind the processor");
        runner.RequestShutdown();

        (await run.WaitAsync(Generous)).Should().Be(PipelineCompletion.Abandoned);
    }

    [Fact]
    public async Task Metrics_are_pushed_when_enabled_and_recorded_as_instruments()
    {
        var recorded = new List<(string, double)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) => { if (i.Meter.Name == VoicePipelineTelemetry.MeterName) l.EnableMeasurementEvents(i); };
        listener.SetMeasurementEventCallback<double>((i, v, _, _) => { lock (recorded) recorded.Add((i.Name, v)); });
        listener.Start();
        var time = new FakeTimeProvider();

        await using var harness = await FrameProcessorHarness.StartAsync(new TimedService(time), new HarnessOptions { EnableMetrics = true, EnableUsageMetrics = true, TimeProvider = time });
        await harness.SendAsync(new TextFrame("x"));
        var ttfb = await harness.WaitForDownstreamAsync<MetricsFrame>(m => m.Data[0] is TtfbMetricsData);
        var usage = await harness.WaitForDownstreamAsync<MetricsFrame>(m => m.Data[0] is UsageMetricsData);

        ((TtfbMetricsData)ttfb.Data[0]).Value.Should().Be(TimeSpan.FromMilliseconds(250));
        ((UsageMetricsData)usage.Data[0]).Characters.Should().Be(1);
        lock (recorded)
            recorded.Should().Contain(("voicepipeline.ttfb", 0.25));
    }

    [Fact]
    public async Task Metrics_frames_are_not_pushed_when_disabled()
    {
        var time = new FakeTimeProvider();
        var result = await FrameProcessorHarness.RunAsync(new TimedService(time), [new TextFrame("x")], new HarnessOptions { TimeProvider = time });

        result.DownstreamOf<MetricsFrame>().Should().BeEmpty();
        result.DownstreamOf<TextFrame>().Should().ContainSingle();
    }

    private sealed class FatalOnText : FrameProcessor
    {
        protected override ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
            => frame is TextFrame
                ? PushErrorAsync("bad key", category: ErrorCategory.Authentication, fatal: true, cancellationToken: cancellationToken)
                : base.ProcessFrameAsync(frame, direction, cancellationToken);
    }

    private sealed class TimedService(FakeTimeProvider time) : FrameProcessor
    {
        protected override async ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
        {
            if (frame is TextFrame text)
            {
                StartTtfbMetrics();
                time.Advance(TimeSpan.FromMilliseconds(250));
                await StopTtfbMetricsAsync(cancellationToken);
                await ReportUsageAsync(new UsageMetricsData(Name) { Characters = text.Text.Length }, cancellationToken);
            }
            await PushFrameAsync(frame, direction, cancellationToken);
        }
    }

    private sealed class BlockedObserver : IFrameObserver
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public async ValueTask OnFramePushedAsync(FramePushed pushed, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _calls);
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }

    private sealed class CollectingObserver : IFrameObserver
    {
        private readonly List<FramePushed> _pushes = [];

        public IReadOnlyList<FramePushed> Pushes
        {
            get { lock (_pushes) return _pushes.ToArray(); }
        }

        public ValueTask OnFramePushedAsync(FramePushed pushed, CancellationToken cancellationToken = default)
        {
            lock (_pushes)
                _pushes.Add(pushed);
            return ValueTask.CompletedTask;
        }
    }
}
