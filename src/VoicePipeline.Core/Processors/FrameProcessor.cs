using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VoicePipeline.Frames;
using VoicePipeline.Metrics;

namespace VoicePipeline.Processors;

/// <summary>
/// A stage of a pipeline. Each processor owns an input queue and two loops on <see cref="System.Threading.Channels"/>:
/// the input loop handles system frames as soon as they arrive (ahead of queued work), the process loop handles data
/// and control frames in order. An <see cref="InterruptionFrame"/> cancels the process loop's in-flight work and drops
/// its queued interruptible frames. Exceptions never escape: they become <see cref="ErrorFrame"/>s pushed upstream.
/// </summary>
/// <remarks>
/// <para>The processing contract: what may run at the same time as what.</para>
/// <list type="bullet">
/// <item><see cref="ProcessFrameAsync"/> sees data and control frames only, one at a time, in order, on the process
/// loop; it is never re-entered. <see cref="OnEndAsync"/> and <see cref="OnInterruptedAsync"/> run on the same loop,
/// so they never overlap it either: state touched only from these three needs no lock.</item>
/// <item><see cref="ProcessSystemFrameAsync"/> sees system frames (audio input, speaking events, interruptions,
/// errors, metrics), one at a time, in arrival order, on the input loop, together with <see cref="OnStartAsync"/> and
/// <see cref="OnCancelAsync"/>. It may run at the same time as <see cref="ProcessFrameAsync"/>, never with itself.</item>
/// <item>An interruption is handled by this class: the in-flight work's token is cancelled, queued interruptible
/// frames are dropped, and an interruptible frame pushed with an already cancelled token is dropped, atomically with
/// respect to the interruption, so no output of interrupted work can follow the <see cref="InterruptionFrame"/>
/// downstream. Then <see cref="ProcessSystemFrameAsync"/> sees the interruption (the default pushes it on), and
/// <see cref="OnInterruptedAsync"/> runs on the process loop before any frame queued after it.</item>
/// <item><see cref="PushFrameAsync"/> and <see cref="QueueFrameAsync"/> are safe from any thread.</item>
/// </list>
/// </remarks>
public abstract class FrameProcessor : IAsyncDisposable
{
    private static long s_instances;

    private readonly Channel<QueuedFrame> _input;
    private readonly Channel<QueuedFrame> _process;
    private readonly Lock _interruptionGate = new();
    private InterruptionEpoch _epoch = new();
    private CancellationTokenSource? _lifetime;
    private Task? _loops;
    private FrameProcessorSetup _setup = FrameProcessorSetup.Default;
    private volatile bool _cancelled;
    private long _ttfbStart;
    private long _processingStart;
    private int _state; // 0 new, 1 running, 2 cleaned up

    /// <summary>Initializes a processor.</summary>
    /// <param name="name">A name for logs and metrics; defaults to the type name and an instance number.</param>
    protected FrameProcessor(string? name = null)
    {
        Name = name ?? $"{GetType().Name}#{Interlocked.Increment(ref s_instances)}";
        _input = Channel.CreateUnbounded<QueuedFrame>(new UnboundedChannelOptions { SingleReader = true });
        _process = Channel.CreateUnbounded<QueuedFrame>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        Logger = NullLogger.Instance;
    }

    /// <summary>Gets the processor's name.</summary>
    public string Name { get; }

    /// <summary>Gets the processor frames are pushed to downstream, if linked.</summary>
    public FrameProcessor? Next { get; private set; }

    /// <summary>Gets the processor frames are pushed to upstream, if linked.</summary>
    public FrameProcessor? Previous { get; private set; }

    /// <summary>Gets the clock of the pipeline this processor runs in.</summary>
    protected TimeProvider TimeProvider => _setup.TimeProvider;

    /// <summary>Gets the processor's logger (a no-op logger until set up).</summary>
    protected ILogger Logger { get; private set; }

    /// <summary>Gets the <see cref="Frames.StartFrame"/> this processor received, once started.</summary>
    protected StartFrame? StartFrame { get; private set; }

    /// <summary>Gets or sets the model name reported with this processor's metrics.</summary>
    protected string? MetricsModel { get; set; }

    /// <summary>Gets the model the processor reports now, for the tracing observer (read from another thread).</summary>
    internal string? CurrentModel => MetricsModel;

    /// <summary>Links <paramref name="next"/> after this processor: downstream pushes go to it, its upstream pushes come here.</summary>
    /// <returns><paramref name="next"/>, so links can be chained.</returns>
    public FrameProcessor Link(FrameProcessor next)
    {
        ArgumentNullException.ThrowIfNull(next);
        Next = next;
        next.Previous = this;
        return next;
    }

    /// <summary>Prepares the processor to run: takes the pipeline's clock and logging, starts its loops.</summary>
    public virtual ValueTask SetupAsync(FrameProcessorSetup setup, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(setup);
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
            throw new InvalidOperationException($"{Name} was already set up; a processor runs in one pipeline once.");
        _setup = setup;
        Logger = setup.LoggerFactory.CreateLogger(GetType());
        _lifetime = new CancellationTokenSource();
        _loops = Task.WhenAll(
            Task.Run(() => RunInputLoopAsync(_lifetime.Token), CancellationToken.None),
            Task.Run(RunProcessLoopAsync, CancellationToken.None));
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Stops the processor: cancels in-flight work, ends its loops and waits for them at most the setup's shutdown
    /// timeout. A processor that ignores cancellation is reported and abandoned, never waited on forever.
    /// Overrides release their own resources and call the base.
    /// </summary>
    public virtual async ValueTask CleanupAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _state, 2) != 1)
            return;
        _input.Writer.TryComplete();
        _process.Writer.TryComplete();
        Volatile.Read(ref _epoch).Cancel();
        await _lifetime!.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loops!.WaitAsync(_setup.ShutdownTimeout, _setup.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            ProcessorLog.Stuck(Logger, Name, _setup.ShutdownTimeout);
            _setup.OnStuckProcessor?.Invoke(this);
        }
    }

    /// <summary>Queues a frame for this processor. Called by the linked processors and by pipeline tasks.</summary>
    public virtual ValueTask QueueFrameAsync(Frame frame, FrameDirection direction = FrameDirection.Downstream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frame);
        _input.Writer.TryWrite(new QueuedFrame(frame, direction, Volatile.Read(ref _epoch)));
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Called when the <see cref="Frames.StartFrame"/> arrives, right after it was pushed on. Connect, allocate, configure,
    /// or start producing frames here. Frames arriving meanwhile wait in the queue.
    /// </summary>
    protected virtual ValueTask OnStartAsync(StartFrame frame, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Called when the <see cref="EndFrame"/> is reached, after every frame queued before it, before it is pushed on. Flush here.</summary>
    protected virtual ValueTask OnEndAsync(EndFrame frame, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Called when a <see cref="CancelFrame"/> arrives, before it is pushed on. Stop at once here.</summary>
    protected virtual ValueTask OnCancelAsync(CancelFrame frame, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>
    /// Called on the process loop after an <see cref="InterruptionFrame"/>, before any frame queued after it and never
    /// at the same time as <see cref="ProcessFrameAsync"/>: reset per-reply state here. The in-flight work was already
    /// cancelled and the queued interruptible frames dropped.
    /// </summary>
    protected virtual ValueTask OnInterruptedAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>
    /// Processes one data or control frame (except the <see cref="EndFrame"/>: see <see cref="OnEndAsync"/>), one at a
    /// time, in order; never re-entered. The default pushes the frame on in the same direction; overrides handle their
    /// frames and call the base for the rest.
    /// </summary>
    /// <param name="frame">The frame.</param>
    /// <param name="direction">The direction it travels.</param>
    /// <param name="cancellationToken">Cancelled by an interruption (for interruptible frames) or at shutdown.</param>
    protected virtual ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
        => PushFrameAsync(frame, direction, cancellationToken);

    /// <summary>
    /// Processes one system frame (except start and cancel: see the On*Async hooks) as soon as it arrives, ahead of
    /// queued work, in arrival order; never re-entered, but it may run at the same time as
    /// <see cref="ProcessFrameAsync"/>. The default pushes the frame on in the same direction.
    /// </summary>
    /// <param name="frame">The frame.</param>
    /// <param name="direction">The direction it travels.</param>
    /// <param name="cancellationToken">Cancelled at shutdown.</param>
    protected virtual ValueTask ProcessSystemFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
        => PushFrameAsync(frame, direction, cancellationToken);

    /// <summary>
    /// Pushes a frame to the next processor (downstream) or the previous one (upstream). An interruptible data or
    /// control frame pushed with an already cancelled <paramref name="cancellationToken"/> is dropped: the work that
    /// made it was interrupted or stopped.
    /// </summary>
    protected ValueTask PushFrameAsync(Frame frame, FrameDirection direction = FrameDirection.Downstream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (frame.Kind >= FrameKind.Data && cancellationToken.CanBeCanceled && frame is not IUninterruptibleFrame)
        {
            // Checked and queued under the gate an interruption cancels under, so nothing interrupted follows it.
            lock (_interruptionGate)
            {
                return cancellationToken.IsCancellationRequested
                    ? ValueTask.CompletedTask
                    : PushUncheckedAsync(frame, direction, cancellationToken);
            }
        }
        return PushUncheckedAsync(frame, direction, cancellationToken);
    }

    private ValueTask PushUncheckedAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        var target = direction == FrameDirection.Downstream ? Next : Previous;
        if (_setup.Observers is { } observers)
            observers.OnFramePushed(this, target, frame, direction);
        if (target is null)
        {
            ProcessorLog.NoTarget(Logger, Name, frame.Name, direction);
            return ValueTask.CompletedTask;
        }
        return target.QueueFrameAsync(frame, direction, cancellationToken);
    }

    /// <summary>Pushes an <see cref="ErrorFrame"/> upstream.</summary>
    protected ValueTask PushErrorAsync(string message, Exception? exception = null, ErrorCategory category = ErrorCategory.Unknown, bool fatal = false, CancellationToken cancellationToken = default)
    {
        VoicePipelineTelemetry.Errors.Add(1, new KeyValuePair<string, object?>("processor", GetType().Name), new KeyValuePair<string, object?>("category", category.ToString()));
        return PushFrameAsync(new ErrorFrame(message, exception, category, fatal) { Processor = Name }, FrameDirection.Upstream, cancellationToken);
    }

    /// <summary>Starts measuring time to first byte.</summary>
    protected void StartTtfbMetrics() => _ttfbStart = TimeProvider.GetTimestamp();

    /// <summary>Stops measuring time to first byte and reports it (a no-op when not started).</summary>
    protected ValueTask StopTtfbMetricsAsync(CancellationToken cancellationToken = default)
        => StopTimerAsync(ref _ttfbStart, VoicePipelineTelemetry.Ttfb, static (name, value, model) => new TtfbMetricsData(name, value, model), cancellationToken);

    /// <summary>Starts measuring processing time.</summary>
    protected void StartProcessingMetrics() => _processingStart = TimeProvider.GetTimestamp();

    /// <summary>Stops measuring processing time and reports it (a no-op when not started).</summary>
    protected ValueTask StopProcessingMetricsAsync(CancellationToken cancellationToken = default)
        => StopTimerAsync(ref _processingStart, VoicePipelineTelemetry.ProcessingTime, static (name, value, model) => new ProcessingMetricsData(name, value, model), cancellationToken);

    /// <summary>Reports a time to final segment (end of speech to final transcript).</summary>
    protected ValueTask ReportTtfsAsync(TimeSpan value, CancellationToken cancellationToken = default)
    {
        VoicePipelineTelemetry.Ttfs.Record(value.TotalSeconds, ProcessorTag);
        return StartFrame?.EnableMetrics == true
            ? PushFrameAsync(new MetricsFrame(new TtfsMetricsData(Name, value, MetricsModel)), FrameDirection.Downstream, cancellationToken)
            : ValueTask.CompletedTask;
    }

    /// <summary>Reports usage (audio seconds, characters, tokens).</summary>
    protected ValueTask ReportUsageAsync(UsageMetricsData usage, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(usage);
        VoicePipelineTelemetry.RecordUsage(usage, ProcessorTag);
        return StartFrame?.EnableUsageMetrics == true
            ? PushFrameAsync(new MetricsFrame(usage), FrameDirection.Downstream, cancellationToken)
            : ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await CleanupAsync().ConfigureAwait(false);
        await DisposeAsyncCore().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the processor's own resources. Called once by <see cref="DisposeAsync"/>, after cleanup.</summary>
    protected virtual ValueTask DisposeAsyncCore() => ValueTask.CompletedTask;

    private KeyValuePair<string, object?> ProcessorTag => new("processor", GetType().Name);

    private ValueTask StopTimerAsync(ref long start, System.Diagnostics.Metrics.Histogram<double> instrument, Func<string, TimeSpan, string?, MetricsData> report, CancellationToken cancellationToken)
    {
        var started = Interlocked.Exchange(ref start, 0);
        if (started == 0)
            return ValueTask.CompletedTask;
        var value = TimeProvider.GetElapsedTime(started);
        instrument.Record(value.TotalSeconds, ProcessorTag);
        return StartFrame?.EnableMetrics == true
            ? PushFrameAsync(new MetricsFrame(report(Name, value, MetricsModel)), FrameDirection.Downstream, cancellationToken)
            : ValueTask.CompletedTask;
    }

    private async Task RunInputLoopAsync(CancellationToken lifetime)
    {
        var reader = _input.Reader;
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (reader.TryRead(out var item))
            {
                var kind = item.Frame.Kind;
                if (kind == FrameKind.SystemLifecycle)
                {
                    var handled = HandleLifecycleFrameAsync(item.Frame, item.Direction, lifetime);
                    if (!handled.IsCompletedSuccessfully)
                        await handled.ConfigureAwait(false);
                }
                else if (kind < FrameKind.SystemLifecycle)
                {
                    // Guarded here rather than by AwaitGuardedAsync: a handler that goes asynchronous (the VAD waiting for
                    // its batch, about every other audio frame) then costs this loop's one state machine, not one per frame.
                    var work = StartProcessing(item.Frame, item.Direction, system: true, lifetime);
                    if (!work.IsCompletedSuccessfully)
                    {
                        try
                        {
                            await work.ConfigureAwait(false);
                        }
#pragma warning disable CA1031 // A processor must never let an exception escape: it becomes an ErrorFrame.
                        catch (Exception exception)
#pragma warning restore CA1031
                        {
                            await OnProcessingFailedAsync(exception, item.Frame, lifetime).ConfigureAwait(false);
                        }
                    }
                }
                else if (!_cancelled)
                {
                    // Tagged with the epoch in force when read: an interruption read before it is already applied, so a
                    // frame queued behind an interruption (even before the interruption was read) is never dropped by it.
                    _process.Writer.TryWrite(item with { Epoch = Volatile.Read(ref _epoch) });
                }
            }
        }
    }

    private async Task RunProcessLoopAsync()
    {
        var reader = _process.Reader;
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (reader.TryRead(out var item))
            {
                if (_cancelled)
                    continue;
                var current = Volatile.Read(ref _epoch);
                if (item.Frame is not IUninterruptibleFrame && !ReferenceEquals(item.Epoch, current))
                    continue; // queued before an interruption
                var token = item.Frame is IUninterruptibleFrame ? current.Token : item.Epoch.Token;
                if (item.Frame is EndFrame && item.Direction == FrameDirection.Downstream)
                {
                    await RunGuardedAsync(Hook.End, item.Frame, token).ConfigureAwait(false);
                    await PushFrameAsync(item.Frame, item.Direction, CancellationToken.None).ConfigureAwait(false);
                }
                else if (item.Frame is InterruptionFrame)
                {
                    await RunGuardedAsync(Hook.Interrupted, item.Frame, token).ConfigureAwait(false);
                }
                else
                {
                    await ProcessGuardedAsync(item.Frame, item.Direction, system: false, token).ConfigureAwait(false);
                }
            }
        }
    }

    private async ValueTask HandleLifecycleFrameAsync(Frame frame, FrameDirection direction, CancellationToken lifetime)
    {
        switch (frame)
        {
            case StartFrame start when direction == FrameDirection.Downstream:
                // Pushed on first, so whatever the processor produces once started (a transport's audio) follows it.
                StartFrame = start;
                await PushFrameAsync(frame, direction, CancellationToken.None).ConfigureAwait(false);
                await RunGuardedAsync(Hook.Start, frame, lifetime).ConfigureAwait(false);
                break;
            case CancelFrame when direction == FrameDirection.Downstream:
                _cancelled = true;
                Volatile.Read(ref _epoch).Cancel();
                await RunGuardedAsync(Hook.Cancel, frame, lifetime).ConfigureAwait(false);
                await PushFrameAsync(frame, direction, CancellationToken.None).ConfigureAwait(false);
                break;
            case InterruptionFrame:
                InterruptionEpoch next;
                lock (_interruptionGate)
                {
                    next = new InterruptionEpoch();
                    Interlocked.Exchange(ref _epoch, next).Cancel();
                }
                ProcessorLog.Interrupted(Logger, Name);
                await ProcessGuardedAsync(frame, direction, system: true, lifetime).ConfigureAwait(false);
                // The process loop resets after everything queued before the interruption was dropped.
                if (!_cancelled)
                    _process.Writer.TryWrite(new QueuedFrame(frame, direction, next));
                break;
            default:
                await ProcessGuardedAsync(frame, direction, system: true, lifetime).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>The hot path: most frames complete synchronously, so only await when the work really is asynchronous.</summary>
    private ValueTask ProcessGuardedAsync(Frame frame, FrameDirection direction, bool system, CancellationToken token)
    {
        var work = StartProcessing(frame, direction, system, token);
        return work.IsCompletedSuccessfully ? ValueTask.CompletedTask : AwaitGuardedAsync(work, frame, token);
    }

    /// <summary>Calls the frame's handler; an exception it throws before its first await comes back as a faulted task.</summary>
    private ValueTask StartProcessing(Frame frame, FrameDirection direction, bool system, CancellationToken token)
    {
        try
        {
            return system ? ProcessSystemFrameAsync(frame, direction, token) : ProcessFrameAsync(frame, direction, token);
        }
#pragma warning disable CA1031 // Caught and reported as an ErrorFrame by whoever awaits the work.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            return ValueTask.FromException(exception);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AwaitGuardedAsync(ValueTask work, Frame frame, CancellationToken token)
    {
        try
        {
            await work.ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A processor must never let an exception escape: it becomes an ErrorFrame.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            await OnProcessingFailedAsync(exception, frame, token).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// What a handler's exception becomes: nothing when it is the cancellation of <paramref name="token"/> (interrupted
    /// or shutting down: the work was abandoned on purpose), otherwise a logged <see cref="ErrorFrame"/>.
    /// </summary>
    private ValueTask OnProcessingFailedAsync(Exception exception, Frame frame, CancellationToken token)
        => exception is OperationCanceledException && token.IsCancellationRequested
            ? ValueTask.CompletedTask
            : ReportFailureAsync(exception, frame);

    private async ValueTask ReportFailureAsync(Exception exception, Frame frame)
    {
        ProcessorLog.ProcessingFailed(Logger, exception, Name, frame.Name);
        try
        {
            await PushErrorAsync($"{Name} failed processing {frame.Name}: {exception.Message}", exception, ErrorCategory.Processing).ConfigureAwait(false);
        }
#pragma warning disable CA1031
        catch (Exception)
#pragma warning restore CA1031
        {
            // Nothing more can be done; the failure is logged.
        }
    }

    /// <summary>Runs a hook so that nothing escapes: cancellation is expected, any other exception becomes an ErrorFrame.</summary>
    private async ValueTask RunGuardedAsync(Hook hook, Frame frame, CancellationToken token)
    {
        try
        {
            var work = hook switch
            {
                Hook.Start => OnStartAsync((StartFrame)frame, token),
                Hook.End => OnEndAsync((EndFrame)frame, token),
                Hook.Interrupted => OnInterruptedAsync(token),
                _ => OnCancelAsync((CancelFrame)frame, token),
            };
            await work.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Interrupted or shutting down: the work was abandoned on purpose.
        }
#pragma warning disable CA1031 // A processor must never let an exception escape: it becomes an ErrorFrame.
        catch (Exception exception)
        {
            await ReportFailureAsync(exception, frame).ConfigureAwait(false);
        }
#pragma warning restore CA1031
    }

    private enum Hook
    {
        Start,
        End,
        Interrupted,
        Cancel,
    }
}
