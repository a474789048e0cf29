using Microsoft.ML.OnnxRuntime;

namespace VoicePipeline.Vad.Silero;

/// <summary>
/// Scores the pending windows of many streams in one <c>Run</c> (up to 64 per batch), each with its own recurrent
/// state. There is no scheduler thread: the first caller to arrive runs batches for everyone waiting (flat combining),
/// so a lone stream runs inline and many streams share each inference.
/// </summary>
public sealed class SileroVadBatcher
{
    /// <summary>The largest batch passed to the model.</summary>
    public const int MaxBatch = 64;

    private readonly Lock _gate = new();
    private readonly List<Request> _pending = [];
    private readonly float[] _input = new float[MaxBatch * 576];
    private readonly float[] _state = new float[2 * MaxBatch * 128];
    private bool _running;
    private int _streams;

    /// <summary>Creates a batcher on <paramref name="model"/> (the shared model by default).</summary>
    public SileroVadBatcher(SileroVadModel? model = null) => Model = model ?? SileroVadModel.Shared;

    /// <summary>Gets the model.</summary>
    public SileroVadModel Model { get; }

    /// <summary>Gets or sets how long a batch waits for the other streams' windows before it runs without them.</summary>
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromMilliseconds(2);

    internal void Register() => Interlocked.Increment(ref _streams);

    internal void Unregister() => Interlocked.Decrement(ref _streams);

    /// <summary>Gets how many batches ran and how many windows they held, for tuning and tests.</summary>
    public (long Batches, long Windows) Statistics { get; private set; }

    /// <summary>Scores one window (context + samples) of one stream and updates its <paramref name="state"/> in place.</summary>
    internal float Score(float[] input, float[] state, int sampleRate)
    {
        var request = new Request(input, state, sampleRate);
        bool lead;
        lock (_gate)
        {
            _pending.Add(request);
            lead = !_running;
            _running = true;
        }
        if (!lead)
        {
            request.Done.Wait();
            request.Done.Dispose();
            return request.Error is null ? request.Result : throw new InvalidOperationException("Batched VAD inference failed.", request.Error);
        }

        while (true)
        {
            WaitForOtherStreams();
            Request[] batch;
            lock (_gate)
            {
                if (_pending.Count == 0)
                {
                    _running = false;
                    break;
                }
                var rate = _pending[0].SampleRate;
                batch = _pending.Where(r => r.SampleRate == rate).Take(MaxBatch).ToArray();
                foreach (var r in batch)
                    _pending.Remove(r);
            }
            RunBatch(batch);
        }
        request.Done.Dispose();
        return request.Error is null ? request.Result : throw new InvalidOperationException("Batched VAD inference failed.", request.Error);
    }

    /// <summary>Gives the other registered streams up to <see cref="MaxWait"/> to queue their windows: fuller batches.</summary>
    private void WaitForOtherStreams()
    {
        var wanted = Math.Min(MaxBatch, Volatile.Read(ref _streams));
        var deadline = System.Diagnostics.Stopwatch.GetTimestamp() + (long)(MaxWait.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        while (true)
        {
            lock (_gate)
            {
                if (_pending.Count >= wanted)
                    return;
            }
            if (System.Diagnostics.Stopwatch.GetTimestamp() >= deadline)
                return;
            Thread.Yield();
        }
    }

    private void RunBatch(Request[] batch)
    {
        var size = batch.Length;
        var width = batch[0].Input.Length;
        try
        {
            for (var b = 0; b < size; b++)
            {
                batch[b].Input.CopyTo(_input, b * width);
                for (var layer = 0; layer < 2; layer++)
                    Array.Copy(batch[b].State, layer * 128, _state, (layer * size + b) * 128, 128);
            }
            using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _input.AsMemory(0, size * width), [size, width]);
            using var state = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _state.AsMemory(0, 2 * size * 128), [2, size, 128]);
            using var rate = OrtValue.CreateTensorValueFromMemory(new long[] { batch[0].SampleRate }, []);
            using var results = Model.Session.Run(s_runOptions, s_inputNames, [input, state, rate], s_outputNames);
            var output = results[0].GetTensorDataAsSpan<float>();
            var stateN = results[1].GetTensorDataAsSpan<float>();
            for (var b = 0; b < size; b++)
            {
                batch[b].Result = output[b];
                for (var layer = 0; layer < 2; layer++)
                    stateN.Slice((layer * size + b) * 128, 128).CopyTo(batch[b].State.AsSpan(layer * 128, 128));
            }
            Statistics = (Statistics.Batches + 1, Statistics.Windows + size);
        }
#pragma warning disable CA1031 // Handed to every waiter, rethrown on its own thread.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            foreach (var r in batch)
                r.Error = exception;
        }
        foreach (var r in batch)
            r.Done.Set();
    }

    private static readonly RunOptions s_runOptions = new();
    private static readonly string[] s_inputNames = ["input", "state", "sr"];
    private static readonly string[] s_outputNames = ["output", "stateN"];

    private sealed class Request(float[] input, float[] state, int sampleRate)
    {
        public float[] Input { get; } = input;

        public float[] State { get; } = state;

        public int SampleRate { get; } = sampleRate;

        public ManualResetEventSlim Done { get; } = new();

        public float Result { get; set; }

        public Exception? Error { get; set; }
    }
}
