using VoicePipeline.Frames;
using VoicePipeline.Pipelines;
using VoicePipeline.Processors;

namespace VoicePipeline.Testing;

/// <summary>
/// Runs one processor (or a whole pipeline) inside a real <see cref="PipelineTask"/> and records what comes out of it
/// downstream and upstream, so tests can send frames and assert on the result.
/// </summary>
/// <example>
/// <code>
/// await using var harness = await FrameProcessorHarness.StartAsync(new MyProcessor());
/// await harness.SendAsync(new TextFrame("hello"));
/// var upper = await harness.WaitForDownstreamAsync&lt;TextFrame&gt;();
/// await harness.EndAsync();
/// </code>
/// </example>
public sealed class FrameProcessorHarness : IAsyncDisposable
{
    private readonly Recorder _upstream;
    private readonly Recorder _downstream;
    private readonly PipelineTask _task;
    private readonly Task<PipelineCompletion> _run;
    private readonly TimeSpan _timeout;

    private FrameProcessorHarness(FrameProcessor processor, HarnessOptions options)
    {
        _timeout = options.Timeout;
        _upstream = new Recorder(FrameDirection.Upstream);
        _downstream = new Recorder(FrameDirection.Downstream);
        _task = new PipelineTask(new Pipeline(_upstream, processor, _downstream), new PipelineTaskOptions
        {
            AudioInSampleRate = options.AudioInSampleRate,
            AudioOutSampleRate = options.AudioOutSampleRate,
            AllowInterruptions = options.AllowInterruptions,
            EnableMetrics = options.EnableMetrics,
            EnableUsageMetrics = options.EnableUsageMetrics,
            TimeProvider = options.TimeProvider,
            LoggerFactory = options.LoggerFactory,
            FatalErrorPolicy = options.FatalErrorPolicy,
            ShutdownTimeout = options.ShutdownTimeout,
            CancelTimeout = options.ShutdownTimeout,
        });
        _run = _task.RunAsync();
    }

    /// <summary>Gets the task the processor runs in.</summary>
    public PipelineTask Task => _task;

    /// <summary>Gets the frames the processor pushed downstream so far (start and end frames excluded).</summary>
    public IReadOnlyList<Frame> Downstream => _downstream.Snapshot();

    /// <summary>Gets the frames the processor pushed upstream so far.</summary>
    public IReadOnlyList<Frame> Upstream => _upstream.Snapshot();

    /// <summary>Gets a task that completes with how the run ended.</summary>
    public Task<PipelineCompletion> Completion => _run;

    /// <summary>Starts <paramref name="processor"/> and returns once its start frame went through.</summary>
    public static async Task<FrameProcessorHarness> StartAsync(FrameProcessor processor, HarnessOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(processor);
        options ??= new HarnessOptions();
        var harness = new FrameProcessorHarness(processor, options);
        try
        {
            await harness._task.Started.WaitAsync(options.Timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await harness.DisposeAsync().ConfigureAwait(false);
            throw new TimeoutException($"{processor.Name} did not pass the StartFrame within {options.Timeout}.");
        }
        return harness;
    }

    /// <summary>Runs <paramref name="processor"/> over <paramref name="frames"/>, then ends it, and returns what came out.</summary>
    public static async Task<HarnessResult> RunAsync(FrameProcessor processor, IEnumerable<Frame> frames, HarnessOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frames);
        var harness = await StartAsync(processor, options, cancellationToken).ConfigureAwait(false);
        await using var _ = harness.ConfigureAwait(false);
        foreach (var frame in frames)
            await harness.SendAsync(frame, FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
        await harness.EndAsync().ConfigureAwait(false);
        return new HarnessResult(harness.Downstream, harness.Upstream, harness._task.Errors);
    }

    /// <summary>Sends a frame into the processor, downstream (from before it) or upstream (from after it).</summary>
    public ValueTask SendAsync(Frame frame, FrameDirection direction = FrameDirection.Downstream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return direction == FrameDirection.Downstream
            ? _upstream.InjectAsync(frame, FrameDirection.Downstream, cancellationToken)
            : _downstream.InjectAsync(frame, FrameDirection.Upstream, cancellationToken);
    }

    /// <summary>Waits for a frame of type <typeparamref name="T"/> (already received or still to come) pushed downstream.</summary>
    /// <exception cref="TimeoutException">None arrived in time; the message lists what did arrive.</exception>
    public Task<T> WaitForDownstreamAsync<T>(Func<T, bool>? predicate = null, TimeSpan? timeout = null) where T : Frame
        => _downstream.WaitForAsync(predicate, timeout ?? _timeout);

    /// <summary>Waits for a frame of type <typeparamref name="T"/> (already received or still to come) pushed upstream.</summary>
    /// <exception cref="TimeoutException">None arrived in time; the message lists what did arrive.</exception>
    public Task<T> WaitForUpstreamAsync<T>(Func<T, bool>? predicate = null, TimeSpan? timeout = null) where T : Frame
        => _upstream.WaitForAsync(predicate, timeout ?? _timeout);

    /// <summary>Sends an <see cref="EndFrame"/> and waits until the run has ended.</summary>
    public async Task<PipelineCompletion> EndAsync(TimeSpan? timeout = null)
    {
        await _upstream.InjectAsync(new EndFrame(), FrameDirection.Downstream).ConfigureAwait(false);
        return await WaitForRunAsync(timeout ?? _timeout).ConfigureAwait(false);
    }

    /// <summary>Cancels the run and waits until it has ended.</summary>
    public async Task<PipelineCompletion> CancelAsync(TimeSpan? timeout = null)
    {
        await _task.CancelAsync("harness cancelled").ConfigureAwait(false);
        return await WaitForRunAsync(timeout ?? _timeout).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_run.IsCompleted)
            await CancelAsync().ConfigureAwait(false);
    }

    private async Task<PipelineCompletion> WaitForRunAsync(TimeSpan timeout)
    {
        try
        {
            return await _run.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The run did not end within {timeout}. Downstream so far: {Describe(Downstream)}");
        }
    }

    internal static string Describe(IEnumerable<Frame> frames) => "[" + string.Join(", ", frames.Select(f => f.ToString())) + "]";

    /// <summary>Records frames leaving the processor in one direction and lets everything through.</summary>
    private sealed class Recorder(FrameDirection recorded) : FrameProcessor("Harness." + recorded)
    {
        private readonly Lock _gate = new();
        private readonly List<Frame> _frames = [];
        private readonly List<(Func<Frame, bool> Match, Action<Frame> Complete)> _waiters = [];

        public override ValueTask SetupAsync(FrameProcessorSetup setup, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public override ValueTask QueueFrameAsync(Frame frame, FrameDirection direction = FrameDirection.Downstream, CancellationToken cancellationToken = default)
        {
            if (direction == recorded && frame is not (Frames.StartFrame or EndFrame))
                Record(frame);
            return PushFrameAsync(frame, direction, cancellationToken);
        }

        public ValueTask InjectAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken = default)
            => PushFrameAsync(frame, direction, cancellationToken);

        public IReadOnlyList<Frame> Snapshot()
        {
            lock (_gate)
                return _frames.ToArray();
        }

        public async Task<T> WaitForAsync<T>(Func<T, bool>? predicate, TimeSpan timeout) where T : Frame
        {
            bool Match(Frame f) => f is T t && (predicate is null || predicate(t));
            var found = new TaskCompletionSource<Frame>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_gate)
            {
                var existing = _frames.FirstOrDefault(Match);
                if (existing is not null)
                    return (T)existing;
                _waiters.Add((Match, f => found.TrySetResult(f)));
            }
            try
            {
                return (T)await found.Task.WaitAsync(timeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"No {typeof(T).Name} matching the condition was pushed {recorded.ToString().ToLowerInvariant()} within {timeout}. Received: {Describe(Snapshot())}");
            }
        }

        private void Record(Frame frame)
        {
            List<Action<Frame>>? completed = null;
            lock (_gate)
            {
                _frames.Add(frame);
                for (var i = _waiters.Count - 1; i >= 0; i--)
                {
                    if (_waiters[i].Match(frame))
                    {
                        (completed ??= []).Add(_waiters[i].Complete);
                        _waiters.RemoveAt(i);
                    }
                }
            }
            completed?.ForEach(c => c(frame));
        }
    }
}

/// <summary>What came out of a processor run by <see cref="FrameProcessorHarness.RunAsync"/>.</summary>
/// <param name="Downstream">Frames pushed downstream (start and end frames excluded).</param>
/// <param name="Upstream">Frames pushed upstream.</param>
/// <param name="Errors">Errors that reached the task.</param>
public sealed record HarnessResult(IReadOnlyList<Frame> Downstream, IReadOnlyList<Frame> Upstream, IReadOnlyList<ErrorFrame> Errors)
{
    /// <summary>Gets the downstream frames of type <typeparamref name="T"/>.</summary>
    public IEnumerable<T> DownstreamOf<T>() where T : Frame => Downstream.OfType<T>();

    /// <summary>Gets the upstream frames of type <typeparamref name="T"/>.</summary>
    public IEnumerable<T> UpstreamOf<T>() where T : Frame => Upstream.OfType<T>();
}
