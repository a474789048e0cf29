using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using VoicePipeline.Frames;
using VoicePipeline.Metrics;
using VoicePipeline.Observers;
using VoicePipeline.Processors;

namespace VoicePipeline.Pipelines;

/// <summary>How a pipeline run ended.</summary>
public enum PipelineCompletion
{
    /// <summary>An <see cref="EndFrame"/> reached the end of the pipeline: all queued work was done.</summary>
    Ended,

    /// <summary>A <see cref="CancelFrame"/> reached the end of the pipeline.</summary>
    Cancelled,

    /// <summary>A cancellation did not reach the end of the pipeline in time; the task stopped anyway.</summary>
    Abandoned,
}

/// <summary>
/// Runs a pipeline: sends the <see cref="StartFrame"/>, feeds it the frames queued by the application once the start
/// has reached the end, ends it gracefully or cancels it, applies the fatal-error policy and the idle timeout, and
/// feeds observers. Every wait is bounded, so a run always finishes.
/// </summary>
public sealed partial class PipelineTask : IAsyncDisposable
{
    private readonly FrameProcessor _pipeline;
    private readonly PipelineTaskOptions _options;
    private readonly TaskEdge _head;
    private readonly TaskEdge _tail;
    private readonly Channel<Frame> _queued = Channel.CreateUnbounded<Frame>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<PipelineCompletion> _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _cancelRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _errorsGate = new();
    private readonly List<ErrorFrame> _errors = [];
    private readonly List<FrameProcessor> _stuck = [];
    private readonly ILogger _logger;
    private ITimer? _idleTimer;
    private int _runs;

    /// <summary>Creates a task for <paramref name="pipeline"/> (usually a <see cref="Pipeline"/>).</summary>
    public PipelineTask(FrameProcessor pipeline, PipelineTaskOptions? options = null)
    {
        _pipeline = pipeline ?? throw new ArgumentNullException(nameof(pipeline));
        _options = options?.Clone() ?? new PipelineTaskOptions();
        _logger = _options.LoggerFactory.CreateLogger<PipelineTask>();
        _head = new TaskEdge(this, FrameDirection.Upstream);
        _tail = new TaskEdge(this, FrameDirection.Downstream);
        _head.Link(_pipeline).Link(_tail);
    }

    /// <summary>Raised for every <see cref="ErrorFrame"/> that reaches the task, on the pipeline's threads.</summary>
    public event EventHandler<ErrorFrame>? ErrorReceived;

    /// <summary>Raised for every frame that reaches the end of the pipeline, on the pipeline's threads. Keep handlers short.</summary>
    public event EventHandler<Frame>? FrameReachedEnd;

    /// <summary>Raised when no activity reached the end of the pipeline for <see cref="PipelineTaskOptions.IdleTimeout"/>.</summary>
    public event EventHandler? Idle;

    /// <summary>Gets a task that completes when the <see cref="StartFrame"/> has reached the end of the pipeline.</summary>
    public Task Started => _started.Task;

    /// <summary>Gets a task that completes with how the run ended.</summary>
    public Task<PipelineCompletion> Completion => _finished.Task;

    /// <summary>Gets the errors that reached the task.</summary>
    public IReadOnlyList<ErrorFrame> Errors
    {
        get
        {
            lock (_errorsGate)
                return _errors.ToArray();
        }
    }

    /// <summary>Gets the first fatal error, if any.</summary>
    public ErrorFrame? FatalError => Errors.FirstOrDefault(e => e.Fatal);

    /// <summary>Gets the processors that did not stop within the shutdown timeout.</summary>
    public IReadOnlyList<FrameProcessor> StuckProcessors
    {
        get
        {
            lock (_errorsGate)
                return _stuck.ToArray();
        }
    }

    /// <summary>Queues a frame; frames flow once the <see cref="StartFrame"/> has reached the end of the pipeline.</summary>
    public ValueTask QueueFrameAsync(Frame frame, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return _queued.Writer.WriteAsync(frame, cancellationToken);
    }

    /// <summary>Queues frames in order.</summary>
    public async ValueTask QueueFramesAsync(IEnumerable<Frame> frames, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frames);
        foreach (var frame in frames)
            await QueueFrameAsync(frame, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Queues an <see cref="EndFrame"/>: the pipeline finishes the work queued before it, then stops.</summary>
    public ValueTask StopWhenDoneAsync(CancellationToken cancellationToken = default) => QueueFrameAsync(new EndFrame(), cancellationToken);

    /// <summary>Cancels the run now: a <see cref="CancelFrame"/> overtakes everything queued.</summary>
    public ValueTask CancelAsync(string? reason = null)
    {
        if (!_cancelRequested.TrySetResult())
            return ValueTask.CompletedTask;
        Log.Cancelling(_logger, reason ?? "requested");
        return _pipeline.QueueFrameAsync(new CancelFrame { Reason = reason }, FrameDirection.Downstream);
    }

    /// <summary>
    /// Runs the pipeline until an end or cancel frame reaches its end. Cancelling <paramref name="cancellationToken"/>
    /// cancels the pipeline; the call still returns within <see cref="PipelineTaskOptions.CancelTimeout"/> plus the
    /// shutdown timeout.
    /// </summary>
    /// <returns>How the run ended.</returns>
    public async Task<PipelineCompletion> RunAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _runs, 1) != 0)
            throw new InvalidOperationException("A pipeline task runs once.");

        // Spans only while someone listens: without a listener the task makes no tracer and allocates nothing for it.
        var tracer = _options.EnableTracing && VoicePipelineTelemetry.ActivitySource.HasListeners()
            ? new ConversationTracer(_options.TimeProvider, _options.ConversationId, RecordedParent())
            : null;
        IEnumerable<IFrameObserver> observerList = tracer is null ? _options.Observers : [.. _options.Observers, tracer];
        var observers = _options.Observers.Count > 0 || tracer is not null
            ? new ObserverHub(observerList, _options.ObserverQueueCapacity, _options.TimeProvider, _logger)
            : null;
        var outcome = "failed";
        var setup = new FrameProcessorSetup
        {
            TimeProvider = _options.TimeProvider,
            LoggerFactory = _options.LoggerFactory,
            ShutdownTimeout = _options.ShutdownTimeout,
            Observers = observers,
            OnStuckProcessor = p =>
            {
                lock (_errorsGate)
                    _stuck.Add(p);
            },
        };

        PipelineCompletion completion;
        try
        {
            await _pipeline.SetupAsync(setup, CancellationToken.None).ConfigureAwait(false);
            await _pipeline.QueueFrameAsync(new StartFrame
            {
                AudioInSampleRate = _options.AudioInSampleRate,
                AudioOutSampleRate = _options.AudioOutSampleRate,
                AllowInterruptions = _options.AllowInterruptions,
                EnableMetrics = _options.EnableMetrics,
                EnableUsageMetrics = _options.EnableUsageMetrics,
            }, FrameDirection.Downstream, CancellationToken.None).ConfigureAwait(false);

            using var pumpStop = new CancellationTokenSource();
            var pump = PumpQueuedFramesAsync(pumpStop.Token);
            completion = await WaitForFinishAsync(cancellationToken).ConfigureAwait(false);
            await pumpStop.CancelAsync().ConfigureAwait(false);
            await pump.ConfigureAwait(false);
            outcome = completion switch { PipelineCompletion.Ended => "ended", PipelineCompletion.Cancelled => "cancelled", _ => "abandoned" };
        }
        finally
        {
            _idleTimer?.Dispose();
            _queued.Writer.TryComplete();
            await _pipeline.CleanupAsync(CancellationToken.None).ConfigureAwait(false);
            if (observers is not null)
            {
                await observers.StopAsync(_options.ShutdownTimeout).ConfigureAwait(false);
                if (observers.Dropped > 0)
                    Log.ObserverEventsDropped(_logger, observers.Dropped);
            }
            tracer?.Complete(outcome);
        }

        Log.Finished(_logger, completion);
        return completion;
    }

    /// <summary>
    /// The span the conversation continues, if one is being recorded (a traced request that started the session). An
    /// unrecorded one (ASP.NET Core's request activity when nobody samples it) would make a parent-based sampler drop
    /// the whole conversation: then the conversation is a trace of its own.
    /// </summary>
    private static ActivityContext RecordedParent() => Activity.Current is { Recorded: true } current ? current.Context : default;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _runs) != 0 && !_finished.Task.IsCompleted)
        {
            await CancelAsync("disposed").ConfigureAwait(false);
            await _finished.Task.WaitAsync(_options.CancelTimeout, _options.TimeProvider).ConfigureAwait(false);
        }
    }

    private async Task<PipelineCompletion> WaitForFinishAsync(CancellationToken cancellationToken)
    {
        await using (cancellationToken.Register(static s => _ = ((PipelineTask)s!).CancelAsync("the run was cancelled").AsTask(), this).ConfigureAwait(false))
        {
            await Task.WhenAny(_finished.Task, _cancelRequested.Task).ConfigureAwait(false);
        }
        if (_finished.Task.IsCompleted)
            return await _finished.Task.ConfigureAwait(false);

        // A cancellation is on its way: bound how long it may take to reach the end.
        try
        {
            return await _finished.Task.WaitAsync(_options.CancelTimeout, _options.TimeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Log.CancelTimedOut(_logger, _options.CancelTimeout);
            _finished.TrySetResult(PipelineCompletion.Abandoned);
            return PipelineCompletion.Abandoned;
        }
    }

    private async Task PumpQueuedFramesAsync(CancellationToken stop)
    {
        try
        {
            await _started.Task.WaitAsync(stop).ConfigureAwait(false);
            await foreach (var frame in _queued.Reader.ReadAllAsync(stop).ConfigureAwait(false))
                await _pipeline.QueueFrameAsync(frame, FrameDirection.Downstream, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private void OnFrameReachedEnd(Frame frame)
    {
        switch (frame)
        {
            case StartFrame:
                if (_options.IdleTimeout is { } idle)
                    _idleTimer = _options.TimeProvider.CreateTimer(static s => ((PipelineTask)s!).OnIdle(), this, idle, Timeout.InfiniteTimeSpan);
                _started.TrySetResult();
                break;
            case EndFrame:
                _finished.TrySetResult(PipelineCompletion.Ended);
                break;
            case CancelFrame:
                _finished.TrySetResult(PipelineCompletion.Cancelled);
                break;
            default:
                if (_idleTimer is not null && _options.IsActivity(frame))
                    _idleTimer.Change(_options.IdleTimeout!.Value, Timeout.InfiniteTimeSpan);
                break;
        }
        FrameReachedEnd?.Invoke(this, frame);
    }

    private ValueTask OnFrameReachedStartAsync(Frame frame)
    {
        switch (frame)
        {
            case ErrorFrame error:
                lock (_errorsGate)
                    _errors.Add(error);
                Log.ErrorReached(_logger, error.Processor ?? "?", error.Category, error.Fatal, error.Message);
                ErrorReceived?.Invoke(this, error);
                if (error.Fatal)
                {
                    return _options.FatalErrorPolicy switch
                    {
                        FatalErrorPolicy.End => _pipeline.QueueFrameAsync(new EndFrame { Reason = error.Message }, FrameDirection.Downstream),
                        FatalErrorPolicy.Cancel => CancelAsync(error.Message),
                        _ => ValueTask.CompletedTask,
                    };
                }
                break;
            case EndFrame end: // a processor asks the task to end
                return _pipeline.QueueFrameAsync(end, FrameDirection.Downstream);
            case CancelFrame cancel: // a processor asks the task to cancel
                return CancelAsync(cancel.Reason);
        }
        return ValueTask.CompletedTask;
    }

    private void OnIdle()
    {
        Log.IdleTimeout(_logger, _options.IdleTimeout!.Value);
        Idle?.Invoke(this, EventArgs.Empty);
        if (_options.CancelOnIdleTimeout)
            _ = CancelAsync("idle timeout").AsTask();
    }

    /// <summary>The task's ends of the chain: frames leaving the pipeline arrive here.</summary>
    private sealed class TaskEdge(PipelineTask task, FrameDirection exit) : FrameProcessor(exit == FrameDirection.Downstream ? "PipelineTask.end" : "PipelineTask.start")
    {
        public override ValueTask SetupAsync(FrameProcessorSetup setup, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public override ValueTask QueueFrameAsync(Frame frame, FrameDirection direction = FrameDirection.Downstream, CancellationToken cancellationToken = default)
        {
            if (direction != exit)
                return ValueTask.CompletedTask;
            if (exit == FrameDirection.Upstream)
                return task.OnFrameReachedStartAsync(frame);
            task.OnFrameReachedEnd(frame);
            return ValueTask.CompletedTask;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Cancelling the pipeline: {Reason}")]
        public static partial void Cancelling(ILogger logger, string reason);

        [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "The cancellation did not reach the end of the pipeline within {Timeout}; stopping anyway")]
        public static partial void CancelTimedOut(ILogger logger, TimeSpan timeout);

        [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "Error from {Processor} ({Category}, fatal: {Fatal}): {Message}")]
        public static partial void ErrorReached(ILogger logger, string processor, ErrorCategory category, bool fatal, string message);

        [LoggerMessage(EventId = 303, Level = LogLevel.Information, Message = "No activity for {Timeout}: the pipeline is idle")]
        public static partial void IdleTimeout(ILogger logger, TimeSpan timeout);

        [LoggerMessage(EventId = 304, Level = LogLevel.Warning, Message = "{Count} observer events were dropped because observers fell behind")]
        public static partial void ObserverEventsDropped(ILogger logger, long count);

        [LoggerMessage(EventId = 305, Level = LogLevel.Debug, Message = "The pipeline finished: {Completion}")]
        public static partial void Finished(ILogger logger, PipelineCompletion completion);
    }
}
