using Microsoft.ML.OnnxRuntime;

namespace VoicePipeline.Vad.Silero;

/// <summary>
/// Scores the pending windows of many streams in one <c>Run</c> (up to 64 per batch), each with its own recurrent
/// state. There is no scheduler thread: the first caller to arrive runs batches for everyone waiting (flat combining),
/// so a lone stream runs inline and many streams share each inference. The leader waits up to <see cref="MaxWait"/>
/// until every registered stream has a window pending, runs the batch, wakes the waiters with their results and hands
/// the lead to a window that arrived meanwhile. On more than one core a batch of 16 or more runs as two concurrent
/// halves (see <see cref="SplitLargeBatches"/>). Nothing is allocated per window: each stream has a reusable ticket and
/// waiter, and the batch tensors are preallocated per batch size over pinned buffers.
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
    private readonly ManualResetEventSlim _gathered = new(false, 0);
    private readonly Runner _runner = new();
    private readonly Ticket[] _helperBatch = new Ticket[MaxBatch];
    private readonly Runner _helperRunner = new();
    private bool _helping;
    private bool _running;
    private bool _gathering;
    private int _wanted;
    private int _streams;
    private long _batches;
    private long _windows;
    private long _splits;

    /// <summary>Creates a batcher on <paramref name="model"/> (the shared model by default).</summary>
    public SileroVadBatcher(SileroVadModel? model = null) => Model = model ?? SileroVadModel.Shared;

    /// <summary>Gets the model.</summary>
    public SileroVadModel Model { get; }

    /// <summary>Gets or sets how long a batch waits for the other streams' windows before it runs without them.</summary>
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>
    /// Gets or sets whether a batch of at least 16 windows runs as two concurrent halves, on the leader's thread and on a
    /// waiting stream's thread, when the machine has more than one core (the session runs each op on one thread).
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
        _runner.Dispose();
        _helperRunner.Dispose();
        _gathered.Dispose();
    }

    /// <summary>Adds a stream; its ticket carries its windows to the batches.</summary>
    internal Ticket Register()
    {
        Interlocked.Increment(ref _streams);
        return new Ticket();
    }

    /// <summary>Removes a stream (its ticket is not pending: a stream scores one window at a time).</summary>
    internal void Unregister(Ticket ticket)
    {
        Interlocked.Decrement(ref _streams);
        ticket.Dispose();
    }

    /// <summary>Scores one window (context + samples) of one stream and updates its <paramref name="state"/> in place.</summary>
    internal float Score(Ticket ticket, float[] input, float[] state, int sampleRate)
    {
        ticket.Prepare(input, state, sampleRate);
        bool lead;
        lock (_gate)
        {
            _pending.Add(ticket);
            lead = !_running;
            _running = true;
            if (!lead && _gathering && _pending.Count >= _wanted)
            {
                _gathering = false;
                _gathered.Set();
            }
        }
        if (!lead)
        {
            ticket.Wait();
            lead = ticket.Leads;
            if (ticket.Helps > 0)
                Help(ticket);
        }
        if (lead)
            Lead(ticket);
        return ticket.Error is null ? ticket.Result : throw new InvalidOperationException("Batched VAD inference failed.", ticket.Error);
    }

    /// <summary>
    /// Runs batches until the caller's own window is scored, then hands the lead to the first window still pending (or
    /// stops): every caller returns as soon as its window is done.
    /// </summary>
    private void Lead(Ticket own)
    {
        own.Leads = false;
        while (true)
        {
            WaitForOtherStreams();
            int size;
            var split = false;
            lock (_gate)
            {
                size = TakeBatch();
                if (size >= 2 * MinSplitHalf && SplitLargeBatches && !_helping)
                {
                    split = _helping = true;
                    _splits++;
                }
            }
            if (split)
            {
                // The second half goes to a waiter of that half, woken now rather than after the run (its wake-up is
                // needed anyway); the caller's own window stays in the first half.
                var half = size / 2;
                var index = Array.IndexOf(_batch, own, 0, size);
                if (index >= half)
                    (_batch[0], _batch[index]) = (_batch[index], _batch[0]);
                Array.Copy(_batch, half, _helperBatch, 0, size - half);
                Array.Clear(_batch, half, size - half);
                var helper = _helperBatch[0];
                helper.Helps = size - half;
                helper.Complete();
                size = half;
            }
            _runner.Run(Model.Session, _batch, size);
            var done = false;
            for (var b = 0; b < size; b++)
            {
                var ticket = _batch[b];
                _batch[b] = null!;
                if (ticket == own)
                    done = true;
                else
                    ticket.Complete();
            }
            Ticket? next = null;
            lock (_gate)
            {
                _batches++;
                _windows += size;
                if (done)
                {
                    if (_pending.Count == 0)
                        _running = false;
                    else
                        next = _pending[0];
                }
            }
            if (done)
            {
                if (next is not null)
                {
                    next.Leads = true;
                    next.Complete();
                }
                return;
            }
        }
    }

    /// <summary>Runs the second half of a split batch on the waiter's thread; the waiter's own window is in it.</summary>
    private void Help(Ticket own)
    {
        var size = own.Helps;
        own.Helps = 0;
        _helperRunner.Run(Model.Session, _helperBatch, size);
        for (var b = 0; b < size; b++)
        {
            var ticket = _helperBatch[b];
            _helperBatch[b] = null!;
            if (ticket != own)
                ticket.Complete();
        }
        lock (_gate)
        {
            _windows += size;
            _helping = false;
        }
    }

    /// <summary>Moves up to <see cref="MaxBatch"/> pending windows of the first pending window's rate into the batch.</summary>
    private int TakeBatch()
    {
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
        return size;
    }

    /// <summary>
    /// Gives the other registered streams up to <see cref="MaxWait"/> to queue their windows: fuller batches. The leader
    /// sleeps; the window that completes the batch wakes it.
    /// </summary>
    private void WaitForOtherStreams()
    {
        var wanted = Math.Clamp(Volatile.Read(ref _streams), 1, MaxBatch);
        lock (_gate)
        {
            if (_pending.Count >= wanted)
                return;
            _wanted = wanted;
            _gathering = true;
            _gathered.Reset();
        }
        _gathered.Wait(MaxWait);
        lock (_gate)
            _gathering = false;
    }

    /// <summary>One stream's window on its way through a batch; reused for every window of the stream.</summary>
    internal sealed class Ticket : IDisposable
    {
        private readonly ManualResetEventSlim _done = new(false, 0);

        public float[] Input { get; private set; } = [];

        public float[] State { get; private set; } = [];

        public int SampleRate { get; private set; }

        public float Result { get; set; }

        public Exception? Error { get; set; }

        /// <summary>Gets or sets whether the waiter was woken to lead the next batch rather than with its result.</summary>
        public bool Leads { get; set; }

        /// <summary>Gets or sets how many windows of a split batch the waiter was woken to run (0: none).</summary>
        public int Helps { get; set; }

        public void Prepare(float[] input, float[] state, int sampleRate)
        {
            Input = input;
            State = state;
            SampleRate = sampleRate;
            Error = null;
            _done.Reset();
        }

        public void Complete() => _done.Set();

        public void Wait() => _done.Wait();

        public void Dispose() => _done.Dispose();
    }

    /// <summary>Pinned batch buffers and, per batch size and window width, tensors over them (created on first use).</summary>
    private sealed class Runner : IDisposable
    {
        private readonly float[] _input = GC.AllocateArray<float>(MaxBatch * 576, pinned: true);
        private readonly float[] _state = GC.AllocateArray<float>(2 * MaxBatch * StateSize, pinned: true);
        private readonly float[] _output = GC.AllocateArray<float>(MaxBatch, pinned: true);
        private readonly float[] _stateN = GC.AllocateArray<float>(2 * MaxBatch * StateSize, pinned: true);
        private readonly long[] _rate = GC.AllocateArray<long>(1, pinned: true);
        private readonly OrtValue _rateValue;
        private readonly OrtValue[]?[] _inputs = new OrtValue[]?[2 * (MaxBatch + 1)];
        private readonly OrtValue[]?[] _outputs = new OrtValue[]?[MaxBatch + 1];

        public Runner() => _rateValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _rate.AsMemory(), []);

        public void Run(InferenceSession session, Ticket[] batch, int size)
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
                session.Run(s_runOptions, s_inputNames, Inputs(size, width), s_outputNames, Outputs(size));
                for (var b = 0; b < size; b++)
                {
                    var ticket = batch[b];
                    ticket.Result = _output[b];
                    Array.Copy(_stateN, b * StateSize, ticket.State, 0, StateSize);
                    Array.Copy(_stateN, (size + b) * StateSize, ticket.State, StateSize, StateSize);
                }
            }
#pragma warning disable CA1031 // Handed to every waiter, rethrown on its own thread.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                for (var b = 0; b < size; b++)
                    batch[b].Error = exception;
            }
        }

        public void Dispose()
        {
            _rateValue.Dispose();
            foreach (var values in _inputs)
            {
                // The rate tensor is shared by every input set and disposed above.
                if (values is not null)
                {
                    values[0].Dispose();
                    values[1].Dispose();
                }
            }
            foreach (var values in _outputs)
            {
                if (values is not null)
                {
                    foreach (var value in values)
                        value.Dispose();
                }
            }
        }

        private OrtValue[] Inputs(int size, int width)
        {
            var slot = (width == 576 ? 0 : MaxBatch + 1) + size;
            return _inputs[slot] ??=
            [
                OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _input.AsMemory(0, size * width), [size, width]),
                OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _state.AsMemory(0, 2 * size * StateSize), [2, size, StateSize]),
                _rateValue,
            ];
        }

        private OrtValue[] Outputs(int size) => _outputs[size] ??=
        [
            OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _output.AsMemory(0, size), [size, 1]),
            OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _stateN.AsMemory(0, 2 * size * StateSize), [2, size, StateSize]),
        ];
    }

    private static readonly RunOptions s_runOptions = new();
    private static readonly string[] s_inputNames = ["input", "state", "sr"];
    private static readonly string[] s_outputNames = ["output", "stateN"];
}
