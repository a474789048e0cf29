using System.Threading.Tasks.Sources;
using Microsoft.ML.OnnxRuntime;

namespace VoicePipeline.Vad.Silero;

/// <summary>
/// Scores the pending windows of many streams in one <c>Run</c> (up to 64 per batch), each with its own recurrent
/// state. Streams hand in windows asynchronously and nobody blocks: the window that completes a batch (every registered
/// stream has one pending) runs it on its own thread, so a lone stream runs inline without a thread hop; a partial batch
/// runs when <see cref="MaxWait"/> has passed since its first window. On more than one core a batch of 16 or more runs
/// as two concurrent halves (see <see cref="SplitLargeBatches"/>), the second on the batcher's helper thread. Nothing
/// is allocated per window: each stream has a reusable ticket, and the batch tensors are preallocated per batch size
/// over pinned buffers.
/// </summary>
public sealed class SileroVadBatcher : IDisposable
{
    /// <summary>The largest batch passed to the model.</summary>
    public const int MaxBatch = 64;

    private const int StateSize = 128;

    /// <summary>The smallest half of a batch split across two cores (smaller batches cost more per window).</summary>
    private const int MinSplitHalf = 8;

    private readonly Lock _gate = new();
    private readonly List<Ticket> _pending = new(MaxBatch);
    private readonly Ticket[] _batch = new Ticket[MaxBatch];
    private readonly Runner _runner = new();
    private readonly ITimer _deadline;
    private Helper? _helper;
    private bool _running;
    private bool _deadlineArmed;
    private int _batchSize;
    private int _leftover;
    private int _halvesRunning;
    private int _streams;
    private long _batches;
    private long _windows;
    private long _splits;
    private long _inferenceTicks;
    private bool _disposed;

    /// <summary>Creates a batcher on <paramref name="model"/> (the shared model by default).</summary>
    /// <param name="model">The model.</param>
    /// <param name="timeProvider">The clock behind <see cref="MaxWait"/> (the system clock by default).</param>
    public SileroVadBatcher(SileroVadModel? model = null, TimeProvider? timeProvider = null)
    {
        Model = model ?? SileroVadModel.Shared;
        _deadline = (timeProvider ?? TimeProvider.System).CreateTimer(static self => ((SileroVadBatcher)self!).RunOverdue(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Gets the model.</summary>
    public SileroVadModel Model { get; }

    /// <summary>Gets or sets how long a window waits for the other streams' windows before its batch runs without them.</summary>
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>
    /// Gets or sets whether a batch of at least 16 windows runs as two concurrent halves, on the thread that started it
    /// and on the batcher's helper thread, when the machine has more than one core (the session runs each op on one
    /// thread).
    /// </summary>
    public bool SplitLargeBatches { get; set; } = Environment.ProcessorCount > 1;

    /// <summary>Gets how many batches ran and how many windows they held, for tuning and tests.</summary>
    public (long Batches, long Windows) Statistics
    {
        get
        {
            lock (_gate)
                return (_batches, _windows);
        }
    }

    /// <summary>Gets the time batches spent in the model so far (both halves of a split batch counted), for tuning and soak tests.</summary>
    public TimeSpan InferenceTime => System.Diagnostics.Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _inferenceTicks));

    /// <summary>Gets how many batches ran as two concurrent halves.</summary>
    internal long SplitBatches
    {
        get
        {
            lock (_gate)
                return _splits;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
        }
        _deadline.Dispose();
        _helper?.Dispose();
        _runner.Dispose();
    }

    /// <summary>Adds a stream; its ticket carries its windows to the batches.</summary>
    internal Ticket Register()
    {
        lock (_gate)
            _streams++;
        return new Ticket();
    }

    /// <summary>
    /// Removes a stream (its ticket is not pending: a stream scores one window at a time). The windows that were
    /// waiting for it run now if they are all that is left.
    /// </summary>
    internal void Unregister()
    {
        lock (_gate)
        {
            _streams--;
            if (_running || _disposed || _pending.Count == 0 || _pending.Count < Math.Clamp(_streams, 1, MaxBatch))
                return;
            StartBatch();
        }
        RunBatch();
    }

    /// <summary>
    /// Scores one window (context + samples) of one stream and updates its <paramref name="state"/> in place. The stream
    /// must not touch either array, nor hand in another window, until the returned task completes.
    /// </summary>
    internal ValueTask<float> ScoreAsync(Ticket ticket, float[] input, float[] state, int sampleRate)
    {
        ticket.Prepare(input, state, sampleRate);
        bool run;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _pending.Add(ticket);
            run = !_running && _pending.Count >= Math.Clamp(_streams, 1, MaxBatch);
            if (run)
                StartBatch();
            else if (!_running)
                ArmDeadline();
        }
        if (run)
            RunBatch();
        return ticket.Task;
    }

    /// <summary>Scores one window, blocking the caller until its batch has run (see <see cref="ScoreAsync"/>).</summary>
    internal float Score(Ticket ticket, float[] input, float[] state, int sampleRate)
    {
        var score = ScoreAsync(ticket, input, state, sampleRate);
        return score.IsCompleted ? score.Result : score.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Runs the partial batch whose first window has waited <see cref="MaxWait"/>.</summary>
    private void RunOverdue()
    {
        lock (_gate)
        {
            _deadlineArmed = false;
            if (_running || _pending.Count == 0 || _disposed)
                return;
            StartBatch();
        }
        RunBatch();
    }

    private void ArmDeadline()
    {
        if (_deadlineArmed)
            return;
        _deadlineArmed = true;
        _deadline.Change(MaxWait, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Under the gate: marks a batch running and moves up to <see cref="MaxBatch"/> pending windows of the first pending window's rate into it.</summary>
    private void StartBatch()
    {
        _running = true;
        if (_deadlineArmed)
        {
            _deadlineArmed = false;
            _deadline.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        var rate = _pending[0].SampleRate;
        var size = 0;
        var kept = 0;
        for (var i = 0; i < _pending.Count; i++)
        {
            var ticket = _pending[i];
            if (size < MaxBatch && ticket.SampleRate == rate)
                _batch[size++] = ticket;
            else
                _pending[kept++] = ticket;
        }
        _pending.RemoveRange(kept, _pending.Count - kept);
        _leftover = kept;
        _batchSize = size;
        _batches++;
        _windows += size;
    }

    /// <summary>
    /// Runs the batch just started, in two concurrent halves when it is large (unless it runs on the helper thread
    /// itself), then the next one if it is due.
    /// </summary>
    private void RunBatch(bool onHelper = false)
    {
        while (true)
        {
            var size = _batchSize;
            if (size >= 2 * MinSplitHalf && SplitLargeBatches && !onHelper)
            {
                var half = size / 2;
                _halvesRunning = 2;
                lock (_gate)
                    _splits++;
                (_helper ??= new Helper(this)).Start(_batch.AsSpan(half, size - half));
                size = half;
            }
            else
            {
                _halvesRunning = 1;
            }
            RunTimed(_runner, _batch, size);
            Complete(_batch, size);
            if (!FinishHalf())
                return;
        }
    }

    private void RunTimed(Runner runner, Ticket[] batch, int size)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        runner.Run(Model, batch, size);
        Interlocked.Add(ref _inferenceTicks, System.Diagnostics.Stopwatch.GetTimestamp() - started);
    }

    /// <summary>Completes the tickets of a batch that ran (their continuations run on the thread pool).</summary>
    private static void Complete(Ticket[] batch, int size)
    {
        for (var b = 0; b < size; b++)
        {
            var ticket = batch[b];
            batch[b] = null!;
            ticket.Complete();
        }
    }

    /// <summary>Called when a half (or a whole batch) is done; the last one out starts the next batch if it is due.</summary>
    /// <returns>Whether the caller should run the batch it started.</returns>
    private bool FinishHalf()
    {
        if (Interlocked.Decrement(ref _halvesRunning) > 0)
            return false;
        lock (_gate)
        {
            _running = false;
            if (_pending.Count == 0 || _disposed)
                return false;
            // Windows left out of the last batch (another rate, or beyond 64) have waited a whole batch already.
            if (_leftover > 0 || _pending.Count >= Math.Clamp(_streams, 1, MaxBatch))
            {
                StartBatch();
                return true;
            }
            ArmDeadline();
            return false;
        }
    }

    /// <summary>A stream's window on its way through a batch; reused for every window of the stream.</summary>
    internal sealed class Ticket : IValueTaskSource<float>
    {
        private ManualResetValueTaskSourceCore<float> _core = new() { RunContinuationsAsynchronously = true };

        public float[] Input { get; private set; } = [];

        public float[] State { get; private set; } = [];

        public int SampleRate { get; private set; }

        public float Result { get; set; }

        public Exception? Error { get; set; }

        public ValueTask<float> Task => new(this, _core.Version);

        public void Prepare(float[] input, float[] state, int sampleRate)
        {
            Input = input;
            State = state;
            SampleRate = sampleRate;
            Error = null;
            _core.Reset();
        }

        public void Complete()
        {
            if (Error is null)
                _core.SetResult(Result);
            else
                _core.SetException(new InvalidOperationException("Batched VAD inference failed.", Error));
        }

        float IValueTaskSource<float>.GetResult(short token) => _core.GetResult(token);

        ValueTaskSourceStatus IValueTaskSource<float>.GetStatus(short token) => _core.GetStatus(token);

        void IValueTaskSource<float>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
            => _core.OnCompleted(continuation, state, token, flags);
    }

    /// <summary>The thread that runs the second half of split batches (a dedicated thread: it must not wait for the pool).</summary>
    private sealed class Helper : IDisposable
    {
        private readonly SileroVadBatcher _owner;
        private readonly Ticket[] _batch = new Ticket[MaxBatch];
        private readonly Runner _runner = new();
        private readonly SemaphoreSlim _work = new(0);
        private readonly Thread _thread;
        private int _size;
        private volatile bool _stopping;

        public Helper(SileroVadBatcher owner)
        {
            _owner = owner;
            _thread = new Thread(Loop) { IsBackground = true, Name = "Silero VAD batch helper" };
            _thread.Start();
        }

        public void Start(Span<Ticket> half)
        {
            half.CopyTo(_batch);
            half.Clear();
            _size = half.Length;
            _work.Release();
        }

        public void Dispose()
        {
            _stopping = true;
            _work.Release();
            _thread.Join();
            _runner.Dispose();
            _work.Dispose();
        }

        private void Loop()
        {
            while (true)
            {
                _work.Wait();
                if (_stopping)
                    return;
                _owner.RunTimed(_runner, _batch, _size);
                Complete(_batch, _size);
                if (_owner.FinishHalf())
                    _owner.RunBatch(onHelper: true);
            }
        }
    }

    /// <summary>Pinned batch buffers and, per batch size and window width, tensors over them bound to the session (created on first use).</summary>
    private sealed class Runner : IDisposable
    {
        private readonly float[] _input = GC.AllocateArray<float>(MaxBatch * 576, pinned: true);
        private readonly float[] _state = GC.AllocateArray<float>(2 * MaxBatch * StateSize, pinned: true);
        private readonly float[] _output = GC.AllocateArray<float>(MaxBatch, pinned: true);
        private readonly float[] _stateN = GC.AllocateArray<float>(2 * MaxBatch * StateSize, pinned: true);
        private readonly long[] _rate = GC.AllocateArray<long>(1, pinned: true);
        private readonly OrtValue _rateValue;
        private readonly Bound?[] _bound = new Bound?[2 * (MaxBatch + 1)];

        public Runner() => _rateValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _rate.AsMemory(), []);

        public void Run(SileroVadModel model, Ticket[] batch, int size)
        {
            var width = batch[0].Input.Length;
            try
            {
                for (var b = 0; b < size; b++)
                {
                    var ticket = batch[b];
                    ticket.Input.CopyTo(_input, b * width);
                    Array.Copy(ticket.State, 0, _state, b * StateSize, StateSize);
                    Array.Copy(ticket.State, StateSize, _state, (size + b) * StateSize, StateSize);
                }
                _rate[0] = batch[0].SampleRate;
                var slot = (width == 576 ? 0 : MaxBatch + 1) + size;
                model.Run((_bound[slot] ??= new Bound(this, model, size, width)).Binding);
                for (var b = 0; b < size; b++)
                {
                    var ticket = batch[b];
                    ticket.Result = _output[b];
                    Array.Copy(_stateN, b * StateSize, ticket.State, 0, StateSize);
                    Array.Copy(_stateN, (size + b) * StateSize, ticket.State, StateSize, StateSize);
                }
            }
#pragma warning disable CA1031 // Handed to every window of the batch, which rethrows it to its stream.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                for (var b = 0; b < size; b++)
                    batch[b].Error = exception;
            }
        }

        public void Dispose()
        {
            foreach (var bound in _bound)
                bound?.Dispose();
            _rateValue.Dispose();
        }

        /// <summary>The tensors of one batch shape over the runner's buffers, bound to the model.</summary>
        private sealed class Bound : IDisposable
        {
            private readonly OrtValue[] _tensors;

            public Bound(Runner runner, SileroVadModel model, int size, int width)
            {
                var memory = OrtMemoryInfo.DefaultInstance;
                _tensors =
                [
                    OrtValue.CreateTensorValueFromMemory(memory, runner._input.AsMemory(0, size * width), [size, width]),
                    OrtValue.CreateTensorValueFromMemory(memory, runner._state.AsMemory(0, 2 * size * StateSize), [2, size, StateSize]),
                    OrtValue.CreateTensorValueFromMemory(memory, runner._output.AsMemory(0, size), [size, 1]),
                    OrtValue.CreateTensorValueFromMemory(memory, runner._stateN.AsMemory(0, 2 * size * StateSize), [2, size, StateSize]),
                ];
                Binding = model.Bind(_tensors[0], _tensors[1], runner._rateValue, _tensors[2], _tensors[3]);
            }

            public OrtIoBinding Binding { get; }

            public void Dispose()
            {
                Binding.Dispose();
                foreach (var tensor in _tensors)
                    tensor.Dispose();
            }
        }
    }

}
