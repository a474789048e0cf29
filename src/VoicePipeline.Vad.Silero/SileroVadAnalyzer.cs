using System.Runtime.CompilerServices;
using Microsoft.ML.OnnxRuntime;
using VoicePipeline.Audio;

namespace VoicePipeline.Vad.Silero;

/// <summary>
/// Silero VAD for one stream: audio at any rate and channel count is down-mixed and resampled (with the project's
/// resampler) to 16 kHz, or kept at 8 kHz, cut into windows of 512 samples (8 kHz: 256) with 64 (32) samples of context
/// prepended, and scored with the recurrent state carried across windows; each window's volume is its BS.1770 loudness
/// on Pipecat's scale (see <see cref="VadWindow.Volume"/>). Runs inline on the caller's thread with
/// preallocated tensors (no allocation per window), or through a shared <see cref="SileroVadBatcher"/>, which
/// <see cref="AnalyzeAsync"/> waits for without blocking a thread.
/// </summary>
public sealed class SileroVadAnalyzer : IVadAnalyzer
{
    private readonly SileroVadModel _model;
    private readonly SileroVadBatcher? _batcher;
    private readonly SileroVadBatcher.Ticket? _ticket;
    private readonly float[] _stateIn = new float[2 * 128];
    private readonly float[] _stateOut = new float[2 * 128];
    private readonly float[] _output = new float[1];
    private readonly long[] _sampleRate = new long[1];
    private readonly LoudnessMeter _loudness = new(16_000);
    private float[] _input = [];
    private OrtValue[] _tensors = [];
    private OrtIoBinding? _binding;
    private MonoConverter? _converter;
    private short[] _buffered = [];
    private int _bufferedCount;
    private int _modelRate;
    private int _window;
    private int _context;
    private bool _disposed;

    /// <summary>Creates an analyzer on <paramref name="model"/> (the shared model by default).</summary>
    /// <param name="model">The model.</param>
    /// <param name="batcher">When set, windows are scored in batches with other streams' windows.</param>
    public SileroVadAnalyzer(SileroVadModel? model = null, SileroVadBatcher? batcher = null)
    {
        _model = model ?? batcher?.Model ?? SileroVadModel.Shared;
        _batcher = batcher;
        _ticket = _batcher?.Register();
        Configure(16_000, 1);
    }

    /// <inheritdoc />
    public TimeSpan WindowDuration => TimeSpan.FromSeconds((double)_window / _modelRate);

    internal int ModelRate => _modelRate;

    internal int WindowSamples => _window;

    internal int ContextSamples => _context;

    /// <inheritdoc />
    public void Configure(int sampleRate, int channels)
    {
        _modelRate = sampleRate == 8_000 ? 8_000 : 16_000;
        _window = _modelRate == 8_000 ? 256 : 512;
        _context = _modelRate == 8_000 ? 32 : 64;
        _converter = new MonoConverter(sampleRate, channels, _modelRate);
        _buffered = new short[2 * _window];
        _bufferedCount = 0;
        _input = new float[_context + _window];
        Array.Clear(_stateIn);
        _sampleRate[0] = _modelRate;
        _loudness.Configure(_modelRate);
        DisposeTensors();
        if (_batcher is not null)
            return; // the batcher runs the model on its own tensors
        _tensors =
        [
            OrtValue.CreateTensorValueFromMemory(_input, [1, _input.Length]),
            OrtValue.CreateTensorValueFromMemory(_stateIn, [2, 1, 128]),
            OrtValue.CreateTensorValueFromMemory(_sampleRate, []),
            OrtValue.CreateTensorValueFromMemory(_output, [1, 1]),
            OrtValue.CreateTensorValueFromMemory(_stateOut, [2, 1, 128]),
        ];
        _binding = _model.Bind(_tensors[0], _tensors[1], _tensors[2], _tensors[3], _tensors[4]);
    }

    /// <inheritdoc />
    public int GetMaxWindows(int samples) => samples / Math.Max(1, _window / 8) + 2;

    /// <inheritdoc />
    public int Analyze(ReadOnlySpan<short> interleaved, Span<VadWindow> results)
    {
        Buffer(interleaved);
        var count = 0;
        var offset = 0;
        for (; _bufferedCount - offset >= _window; offset += _window)
        {
            var window = _buffered.AsSpan(offset, _window);
            LoadWindow(window);
            float probability;
            if (_batcher is null)
            {
                _model.Run(_binding!);
                probability = _output[0];
                _stateOut.CopyTo(_stateIn, 0);
            }
            else
            {
                probability = _batcher.Score(_ticket!, _input, _stateIn, _modelRate);
            }
            AdvanceContext();
            results[count++] = new VadWindow(probability, _loudness.Measure(window));
        }
        Consume(offset);
        return count;
    }

    /// <inheritdoc />
    /// <remarks>On a batcher the windows wait for their batch without blocking a thread; alone they run inline.</remarks>
    public ValueTask<int> AnalyzeAsync(ReadOnlySpan<short> interleaved, Memory<VadWindow> results)
    {
        if (_batcher is null)
            return new(Analyze(interleaved, results.Span));
        Buffer(interleaved);
        return ScoreBatchedAsync(results);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ScoreBatchedAsync(Memory<VadWindow> results)
    {
        var count = 0;
        var offset = 0;
        for (; _bufferedCount - offset >= _window; offset += _window)
        {
            LoadWindow(_buffered.AsSpan(offset, _window));
            var probability = await _batcher!.ScoreAsync(_ticket!, _input, _stateIn, _modelRate).ConfigureAwait(false);
            AdvanceContext();
            results.Span[count++] = new VadWindow(probability, _loudness.Measure(_buffered.AsSpan(offset, _window)));
        }
        Consume(offset);
        return count;
    }

    /// <summary>Converts audio to mono at the model rate and appends it to the samples awaiting a full window.</summary>
    private void Buffer(ReadOnlySpan<short> interleaved)
    {
        var mono = _converter!.Convert(interleaved);
        if (_bufferedCount + mono.Length > _buffered.Length)
            Array.Resize(ref _buffered, Math.Max(2 * _buffered.Length, _bufferedCount + mono.Length));
        mono.CopyTo(_buffered.AsSpan(_bufferedCount));
        _bufferedCount += mono.Length;
    }

    /// <summary>Drops the samples scored; the rest (less than a window) moves to the front.</summary>
    private void Consume(int scored)
    {
        _buffered.AsSpan(scored, _bufferedCount - scored).CopyTo(_buffered);
        _bufferedCount -= scored;
    }

    /// <summary>Puts a window after the previous window's last samples (the context, already at the front of the input).</summary>
    private void LoadWindow(ReadOnlySpan<short> window)
    {
        for (var i = 0; i < window.Length; i++)
            _input[_context + i] = window[i] / 32768f;
    }

    /// <summary>Keeps the window's last samples as the next window's context.</summary>
    private void AdvanceContext() => _input.AsSpan(_window, _context).CopyTo(_input);

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _batcher?.Unregister();
        DisposeTensors();
    }

    private void DisposeTensors()
    {
        _binding?.Dispose();
        _binding = null;
        foreach (var value in _tensors)
            value.Dispose();
        _tensors = [];
    }
}
