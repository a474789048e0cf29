using System.Numerics;

namespace VoicePipeline.Audio.Tests;

/// <summary>Signal generation and spectral measurement for the resampler tests.</summary>
internal static class Spectrum
{
    public static short[] Tone(double frequency, int sampleRate, double seconds, double amplitude = 0.5)
        => Enumerable.Range(0, (int)(seconds * sampleRate))
            .Select(n => (short)Math.Round(amplitude * 32767 * Math.Sin(2 * Math.PI * frequency * n / sampleRate)))
            .ToArray();

    /// <summary>A linear chirp from <paramref name="from"/> to <paramref name="to"/> Hz.</summary>
    public static short[] Sweep(double from, double to, int sampleRate, double seconds, double amplitude = 0.5)
    {
        var total = (int)(seconds * sampleRate);
        var rate = (to - from) / seconds;
        return Enumerable.Range(0, total)
            .Select(n => { var t = (double)n / sampleRate; return (short)Math.Round(amplitude * 32767 * Math.Sin(2 * Math.PI * (from * t + rate * t * t / 2))); })
            .ToArray();
    }

    /// <summary>Amplitude spectrum (Hann window, radix-2 FFT) of the first power-of-two samples; bin i is i*rate/n Hz.</summary>
    public static double[] Magnitudes(ReadOnlySpan<short> samples)
    {
        var n = 1;
        while (n * 2 <= samples.Length)
            n *= 2;
        var data = new Complex[n];
        for (var i = 0; i < n; i++)
        {
            var window = 0.5 - 0.5 * Math.Cos(2 * Math.PI * i / (n - 1));
            data[i] = new Complex(samples[i] / 32768.0 * window, 0);
        }
        Fft(data);
        return data.Take(n / 2).Select(c => c.Magnitude / (n / 4.0)).ToArray();
    }

    /// <summary>Amplitude (0..1 of full scale) of a tone at <paramref name="frequency"/>, by least squares.</summary>
    public static (double Amplitude, double ResidualDb) FitTone(ReadOnlySpan<short> samples, double frequency, int sampleRate)
    {
        double ss = 0, sc = 0, cc = 0, ys = 0, yc = 0;
        for (var i = 0; i < samples.Length; i++)
        {
            var s = Math.Sin(2 * Math.PI * frequency * i / sampleRate);
            var c = Math.Cos(2 * Math.PI * frequency * i / sampleRate);
            var y = samples[i] / 32768.0;
            ss += s * s; sc += s * c; cc += c * c; ys += y * s; yc += y * c;
        }
        var det = ss * cc - sc * sc;
        var a = (ys * cc - yc * sc) / det;
        var b = (yc * ss - ys * sc) / det;
        double residual = 0, signal = 0;
        for (var i = 0; i < samples.Length; i++)
        {
            var fit = a * Math.Sin(2 * Math.PI * frequency * i / sampleRate) + b * Math.Cos(2 * Math.PI * frequency * i / sampleRate);
            var y = samples[i] / 32768.0;
            residual += (y - fit) * (y - fit);
            signal += fit * fit;
        }
        return (Math.Sqrt(a * a + b * b), 10 * Math.Log10(residual / signal));
    }

    private static void Fft(Complex[] data)
    {
        var n = data.Length;
        for (int i = 1, j = 0; i < n; i++)
        {
            var bit = n >> 1;
            for (; (j & bit) != 0; bit >>= 1)
                j ^= bit;
            j ^= bit;
            if (i < j)
                (data[i], data[j]) = (data[j], data[i]);
        }
        for (var len = 2; len <= n; len <<= 1)
        {
            var angle = -2 * Math.PI / len;
            var wlen = new Complex(Math.Cos(angle), Math.Sin(angle));
            for (var i = 0; i < n; i += len)
            {
                var w = Complex.One;
                for (var k = 0; k < len / 2; k++)
                {
                    var u = data[i + k];
                    var v = data[i + k + len / 2] * w;
                    data[i + k] = u + v;
                    data[i + k + len / 2] = u - v;
                    w *= wlen;
                }
            }
        }
    }
}
