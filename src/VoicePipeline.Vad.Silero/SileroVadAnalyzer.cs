using Microsoft.ML.OnnxRuntime;
using VoicePipeline.Audio;

namespace VoicePipeline.Vad.Silero;

/// <summary>
/// Silero VAD for one stream: audio at any rate and channel count is down-mixed and resampled (with the project's
/// resampler) to 16 kHz, or kept at 8 kHz, cut into windows of 512 samples (8 kHz: 256) with 64 (32) samples of context
/// prepended, and scored with the recurrent state carried across windows. Runs inline on the caller's thread with
/// preallocated tensors (no allocation per window), or through a shared <see cref="SileroVadBatcher"/>.
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
    private float[] _input = [];
    private OrtValue[] _inputs = [];
    private OrtValue[] _outputs = [];
    private MonoConverter? _converter;
    private short[] _pending = [];
    private int _pendingCount;
    private int _modelRate;
    private int _window;
    private int _context;

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
        _pending = new short[_window];
        _pendingCount = 0;
        _input = new float[_context + _window];
        Array.Clear(_stateIn);
        _sampleRate[0] = _modelRate;
        DisposeTensors();
        _inputs =
        [
            OrtValue.CreateTensorValueFromMemory(_input, [1, _input.Length]),
            OrtValue.CreateTensorValueFromMemory(_stateIn, [2, 1, 128]),
            OrtValue.CreateTensorValueFromMemory(_sampleRate, []),
        ];
        _outputs =
        [
            OrtValue.CreateTensorValueFromMemory(_output, [1, 1]),
            OrtValue.CreateTensorValueFromMemory(_stateOut, [2, 1, 128]),
        ];
    }

    /// <inheritdoc />
    public int GetMaxWindows(int samples) => samples / Math.Max(1, _window / 8) + 2;

    /// <inheritdoc />
    public int Analyze(ReadOnlySpan<short> interleaved, Span<VadWindow> results)
    {
        var mono = _converter!.Convert(interleaved);
        var count = 0;
        while (!mono.IsEmpty)
        {
            var take = Math.Min(mono.Length, _window - _pendingCount);
            mono[..take].CopyTo(_pending.AsSpan(_pendingCount));
            _pendingCount += take;
            mono = mono[take..];
            if (_pendingCount < _window)
                break;
            _pendingCount = 0;
            results[count++] = new VadWindow(Score(_pending), (float)Pcm.Loudness(_pending));
        }
        return count;
    }

    /// <summary>Scores one window of model-rate samples and advances the stream's state.</summary>
    internal float Score(ReadOnlySpan<short> window)
    {
        // The last `context` samples of the previous window are already at the front of _input.
        for (var i = 0; i < window.Length; i++)
            _input[_context + i] = window[i] / 32768f;
        float probability;
        if (_batcher is null)
        {
            _model.Session.Run(s_runOptions, s_inputNames, _inputs, s_outputNames, _outputs);
            probability = _output[0];
            _stateOut.CopyTo(_stateIn, 0);
        }
        else
        {
            probability = _batcher.Score(_ticket!, _input, _stateIn, _modelRate);
        }
        _input.AsSpan(_window, _context).CopyTo(_input);
        return probability;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_inputs.Length > 0)
            _batcher?.Unregister(_ticket!);
        DisposeTensors();
        _inputs = [];
        _outputs = [];
    }

    private void DisposeTensors()
    {
        foreach (var value in _inputs)
            value.Dispose();
        foreach (var value in _outputs)
            value.Dispose();
    }

    private static readonly RunOptions s_runOptions = new();
    private static readonly string[] s_inputNames = ["input", "state", "sr"];
    private static readonly string[] s_outputNames = ["output", "stateN"];
}
