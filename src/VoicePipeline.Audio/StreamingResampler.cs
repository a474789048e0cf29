using System.Numerics;
using System.Runtime.InteropServices;

namespace VoicePipeline.Audio;

/// <summary>
/// A streaming polyphase windowed-sinc (Kaiser) resampler for mono s16 audio between any two rates whose ratio is
/// rational (8, 16, 22.05, 24, 44.1, 48 kHz and the like). It keeps its history across calls, so frame boundaries are
/// seamless, and never allocates after construction. The anti-aliasing filter passes up to 40% of the lower rate and
/// attenuates from 50% of it (its Nyquist frequency) by at least 80 dB by design.
/// </summary>
/// <remarks>Not thread-safe: one instance per stream.</remarks>
public sealed class StreamingResampler
{
    private const double StopBandAttenuationDb = 80;
    private const double PassBandEdge = 0.40;  // of the lower rate
    private const double StopBandEdge = 0.50;  // of the lower rate
    private const int ChunkSamples = 4096;

    private readonly int _up;       // L
    private readonly int _down;     // M
    private readonly int _taps;     // K, taps per phase
    private readonly float[] _coefficients; // L phases of K taps, each reversed for a forward dot product
    private readonly float[] _history;      // K - 1 samples of context, then up to ChunkSamples new ones
    private int _count;                      // valid samples in _history
    private long _position;                  // next output, in upsampled units from _history[0]

    /// <summary>Creates a resampler from <paramref name="inputRate"/> to <paramref name="outputRate"/> (Hz).</summary>
    public StreamingResampler(int inputRate, int outputRate)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputRate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputRate);
        InputRate = inputRate;
        OutputRate = outputRate;
        var gcd = Gcd(inputRate, outputRate);
        _up = outputRate / gcd;
        _down = inputRate / gcd;
        if (_up > 4096)
            throw new ArgumentException($"Resampling {inputRate} Hz to {outputRate} Hz needs too fine a ratio ({_up}/{_down}).", nameof(outputRate));

        var lower = Math.Min(inputRate, outputRate);
        var upsampledRate = (double)inputRate * _up;
        var transition = 2 * Math.PI * (StopBandEdge - PassBandEdge) * lower / upsampledRate;
        var length = (int)Math.Ceiling((StopBandAttenuationDb - 8) / (2.285 * transition)) + 1;
        _taps = Math.Max(8, (length + _up - 1) / _up);
        _coefficients = DesignPolyphase(_up, _taps, (PassBandEdge + StopBandEdge) / 2 * lower / upsampledRate);
        _history = new float[_taps - 1 + ChunkSamples];
        Reset();
    }

    /// <summary>Gets the input rate (Hz).</summary>
    public int InputRate { get; }

    /// <summary>Gets the output rate (Hz).</summary>
    public int OutputRate { get; }

    /// <summary>Gets the number of filter taps applied per output sample.</summary>
    public int TapsPerPhase => _taps;

    /// <summary>Gets the delay the filter adds, in output samples.</summary>
    public double DelayInOutputSamples => (_taps * _up - 1) / 2.0 / _down;

    /// <summary>The largest number of samples <see cref="Process"/> can write for <paramref name="inputLength"/> input samples.</summary>
    public int GetMaxOutputLength(int inputLength) => (int)((long)inputLength * _up / _down) + 2;

    /// <summary>Resamples <paramref name="input"/>; returns the number of samples written to <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="output"/> is shorter than <see cref="GetMaxOutputLength"/>.</exception>
    public int Process(ReadOnlySpan<short> input, Span<short> output)
    {
        if (output.Length < GetMaxOutputLength(input.Length))
            throw new ArgumentException($"The output holds {output.Length} samples; up to {GetMaxOutputLength(input.Length)} may be written.", nameof(output));
        var written = 0;
        while (!input.IsEmpty)
        {
            var take = Math.Min(input.Length, _history.Length - _count);
            var destination = _history.AsSpan(_count, take);
            for (var i = 0; i < take; i++)
                destination[i] = input[i];
            _count += take;
            input = input[take..];
            written += Drain(output[written..]);
        }
        return written;
    }

    /// <summary>Pushes out the samples still held by the filter's delay (call once at the end of a stream).</summary>
    /// <returns>The number of samples written.</returns>
    public int Flush(Span<short> output)
    {
        Span<short> zeros = stackalloc short[Math.Min(_taps, 1024)];
        zeros.Clear();
        var tail = (int)Math.Ceiling(DelayInOutputSamples);
        var written = 0;
        var scratch = output;
        for (var fed = 0; fed < _taps && written < tail; fed += zeros.Length)
        {
            var n = Process(zeros, scratch[written..]);
            written += n;
        }
        return Math.Min(written, tail);
    }

    /// <summary>Forgets the history, as for a new stream.</summary>
    public void Reset()
    {
        Array.Clear(_history);
        _count = _taps - 1;
        _position = (long)(_taps - 1) * _up;
    }

    private int Drain(Span<short> output)
    {
        var written = 0;
        var history = _history.AsSpan();
        while (_position / _up < _count)
        {
            var index = (int)(_position / _up);
            var phase = (int)(_position % _up);
            var taps = history.Slice(index - _taps + 1, _taps);
            var sum = Dot(_coefficients.AsSpan(phase * _taps, _taps), taps);
            output[written++] = Pcm.Clip(sum);
            _position += _down;
        }

        // Keep only the context the next output needs.
        var keepFrom = (int)(_position / _up) - (_taps - 1);
        if (keepFrom > 0)
        {
            keepFrom = Math.Min(keepFrom, _count);
            history[keepFrom.._count].CopyTo(history);
            _count -= keepFrom;
            _position -= (long)keepFrom * _up;
        }
        return written;
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = 0f;
        var i = 0;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<float>.Count)
        {
            var acc = Vector<float>.Zero;
            var va = MemoryMarshal.Cast<float, Vector<float>>(a);
            var vb = MemoryMarshal.Cast<float, Vector<float>>(b);
            for (var v = 0; v < va.Length; v++)
                acc += va[v] * vb[v];
            sum = Vector.Dot(acc, Vector<float>.One);
            i = va.Length * Vector<float>.Count;
        }
        for (; i < a.Length; i++)
            sum += a[i] * b[i];
        return sum;
    }

    private static float[] DesignPolyphase(int phases, int taps, double cutoff)
    {
        // Prototype low-pass at the upsampled rate, Kaiser-windowed, gain `phases` to make up for zero-stuffing;
        // samples are s16 values, so the gain stays in sample units.
        var length = phases * taps;
        var beta = 0.1102 * (StopBandAttenuationDb - 8.7);
        var center = (length - 1) / 2.0;
        var prototype = new double[length];
        for (var n = 0; n < length; n++)
        {
            var x = n - center;
            var sinc = x == 0 ? 1 : Math.Sin(2 * Math.PI * cutoff * x) / (2 * Math.PI * cutoff * x);
            var ratio = 2.0 * n / (length - 1) - 1;
            var window = BesselI0(beta * Math.Sqrt(Math.Max(0, 1 - ratio * ratio))) / BesselI0(beta);
            prototype[n] = 2 * cutoff * sinc * window * phases;
        }
        var coefficients = new float[length];
        for (var p = 0; p < phases; p++)
        {
            for (var k = 0; k < taps; k++)
                coefficients[p * taps + (taps - 1 - k)] = (float)prototype[k * phases + p];
        }
        return coefficients;
    }

    private static double BesselI0(double x)
    {
        double sum = 1, term = 1;
        for (var k = 1; k < 64; k++)
        {
            term *= x / (2 * k) * (x / (2 * k));
            sum += term;
            if (term < sum * 1e-16)
                break;
        }
        return sum;
    }

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
}
