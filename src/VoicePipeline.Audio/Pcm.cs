using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace VoicePipeline.Audio;

/// <summary>PCM helpers: conversions, down-mixing, volume and silence detection. None allocate.</summary>
public static class Pcm
{
    private const float ShortScale = 32768f;

    /// <summary>Reinterprets s16le bytes as samples (this library only runs on little-endian machines).</summary>
    public static ReadOnlySpan<short> AsSamples(ReadOnlySpan<byte> s16le) => MemoryMarshal.Cast<byte, short>(s16le);

    /// <summary>Reinterprets samples as s16le bytes.</summary>
    public static ReadOnlySpan<byte> AsBytes(ReadOnlySpan<short> samples) => MemoryMarshal.AsBytes(samples);

    /// <summary>Converts s16 samples to floats in [-1, 1).</summary>
    public static void ToFloat(ReadOnlySpan<short> source, Span<float> destination)
    {
        EnsureLength(source.Length, destination.Length);
        for (var i = 0; i < source.Length; i++)
            destination[i] = source[i] / ShortScale;
    }

    /// <summary>Converts floats to s16 samples with rounding and clipping.</summary>
    public static void ToInt16(ReadOnlySpan<float> source, Span<short> destination)
    {
        EnsureLength(source.Length, destination.Length);
        for (var i = 0; i < source.Length; i++)
            destination[i] = Clip(source[i] * ShortScale);
    }

    /// <summary>Rounds and clips a sample value to s16.</summary>
    public static short Clip(float value)
    {
        var rounded = MathF.Round(value);
        return rounded >= short.MaxValue ? short.MaxValue : rounded <= short.MinValue ? short.MinValue : (short)rounded;
    }

    /// <summary>Averages interleaved channels into mono. <paramref name="destination"/> needs one sample per frame.</summary>
    /// <returns>The number of mono samples written.</returns>
    public static int DownmixToMono(ReadOnlySpan<short> interleaved, int channels, Span<short> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        var frames = interleaved.Length / channels;
        EnsureLength(frames, destination.Length);
        if (channels == 1)
        {
            interleaved[..frames].CopyTo(destination);
            return frames;
        }
        for (var f = 0; f < frames; f++)
        {
            var sum = 0;
            var row = interleaved.Slice(f * channels, channels);
            foreach (var s in row)
                sum += s;
            destination[f] = (short)(sum / channels);
        }
        return frames;
    }

    /// <summary>Root mean square of the samples, in [0, 1].</summary>
    public static double Rms(ReadOnlySpan<short> samples)
    {
        if (samples.IsEmpty)
            return 0;
        double sum = 0;
        foreach (var s in samples)
            sum += (double)s * s;
        return Math.Sqrt(sum / samples.Length) / ShortScale;
    }

    /// <summary>Level relative to full scale, in dBFS (−∞ for digital silence is reported as −120).</summary>
    public static double Dbfs(ReadOnlySpan<short> samples)
    {
        var rms = Rms(samples);
        return rms <= 1e-6 ? -120 : 20 * Math.Log10(rms);
    }

    /// <summary>
    /// A normalized loudness in [0, 1] for a speech gate: the level in dBFS mapped linearly from −60 dBFS (0) to
    /// −20 dBFS (1), so ordinary speech lands well above 0.6 and room noise well below.
    /// </summary>
    public static double Loudness(ReadOnlySpan<short> samples) => Math.Clamp((Dbfs(samples) + 60) / 40, 0, 1);

    /// <summary>Whether every sample stays within <paramref name="threshold"/> of zero.</summary>
    public static bool IsSilence(ReadOnlySpan<short> samples, short threshold = 16)
    {
        foreach (var s in samples)
        {
            if (s > threshold || s < -threshold)
                return false;
        }
        return true;
    }

    /// <summary>Writes samples as s16le bytes.</summary>
    public static void WriteLittleEndian(ReadOnlySpan<short> samples, Span<byte> destination)
    {
        EnsureLength(samples.Length * 2, destination.Length);
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(samples).CopyTo(destination);
            return;
        }
        for (var i = 0; i < samples.Length; i++)
            BinaryPrimitives.WriteInt16LittleEndian(destination[(i * 2)..], samples[i]);
    }

    internal static void EnsureLength(int needed, int available)
    {
        if (available < needed)
            throw new ArgumentException($"The destination holds {available} items but {needed} are needed.");
    }
}
