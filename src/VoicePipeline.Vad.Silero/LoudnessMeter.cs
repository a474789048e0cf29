namespace VoicePipeline.Vad.Silero;

/// <summary>
/// The loudness of each analysis window on the VAD's volume scale (<see cref="VadWindow.Volume"/>): ITU-R BS.1770
/// loudness (K-weighted mean square, in LUFS) mapped linearly from −110 LUFS (0) to −10 LUFS (1), the scale Pipecat's
/// <c>calculate_audio_volume</c> uses, so <see cref="VadParams.MinVolume"/> 0.6 means −50 LUFS as it does there. The
/// K-weighting filter (a high shelf of +4 dB above about 1.7 kHz and a high-pass at 38 Hz, designed for the stream's
/// rate as libebur128 does) runs across windows, so each window is measured without a filter start-up transient.
/// </summary>
/// <remarks>Not thread-safe: one instance per stream.</remarks>
internal sealed class LoudnessMeter
{
    /// <summary>The loudness that maps to volume 0.</summary>
    public const double FloorLufs = -110;

    /// <summary>The loudness that maps to volume 1.</summary>
    public const double CeilingLufs = -10;

    // Shelf (stage 1) and high-pass (stage 2) biquads: b0..b2 over a0 = 1, a1, a2.
    private double _s0, _s1, _s2, _sa1, _sa2;
    private double _ha1, _ha2;
    private double _z1, _z2, _z3, _z4;

    /// <summary>Creates a meter for audio at <paramref name="sampleRate"/>.</summary>
    public LoudnessMeter(int sampleRate) => Configure(sampleRate);

    /// <summary>Designs the filter for <paramref name="sampleRate"/> and forgets the stream so far.</summary>
    public void Configure(int sampleRate)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleRate);

        // BS.1770's pre-filter (a high shelf), from its analog prototype by the bilinear transform (libebur128's design).
        const double shelfFrequency = 1681.974450955533, shelfGainDb = 3.999843853973347, shelfQ = 0.7071752369554196;
        var k = Math.Tan(Math.PI * shelfFrequency / sampleRate);
        var vh = Math.Pow(10, shelfGainDb / 20);
        var vb = Math.Pow(vh, 0.4996667741545416);
        var a0 = 1 + k / shelfQ + k * k;
        _s0 = (vh + vb * k / shelfQ + k * k) / a0;
        _s1 = 2 * (k * k - vh) / a0;
        _s2 = (vh - vb * k / shelfQ + k * k) / a0;
        _sa1 = 2 * (k * k - 1) / a0;
        _sa2 = (1 - k / shelfQ + k * k) / a0;

        // The RLB weighting (a high-pass, numerator 1, -2, 1).
        const double highPassFrequency = 38.13547087602444, highPassQ = 0.5003270373238773;
        k = Math.Tan(Math.PI * highPassFrequency / sampleRate);
        a0 = 1 + k / highPassQ + k * k;
        _ha1 = 2 * (k * k - 1) / a0;
        _ha2 = (1 - k / highPassQ + k * k) / a0;
        Reset();
    }

    /// <summary>Forgets the filter's history, as for a new stream.</summary>
    public void Reset() => _z1 = _z2 = _z3 = _z4 = 0;

    /// <summary>Measures the next window of the stream: its loudness in LUFS (−∞ for digital silence).</summary>
    public double MeasureLufs(ReadOnlySpan<short> window)
    {
        if (window.IsEmpty)
            return double.NegativeInfinity;
        double z1 = _z1, z2 = _z2, z3 = _z3, z4 = _z4, sum = 0;
        foreach (var sample in window)
        {
            // Transposed direct form II, in double: the high-pass pole sits within 1% of the unit circle.
            var x = sample * (1.0 / 32768);
            var shelf = _s0 * x + z1;
            z1 = _s1 * x - _sa1 * shelf + z2;
            z2 = _s2 * x - _sa2 * shelf;
            var weighted = shelf + z3;
            z3 = -2 * shelf - _ha1 * weighted + z4;
            z4 = shelf - _ha2 * weighted;
            sum += weighted * weighted;
        }
        // After digital silence the history decays towards subnormal numbers, which are slow; nothing below 1e-20 is audible.
        _z1 = Math.Abs(z1) < 1e-20 ? 0 : z1;
        _z2 = Math.Abs(z2) < 1e-20 ? 0 : z2;
        _z3 = Math.Abs(z3) < 1e-20 ? 0 : z3;
        _z4 = Math.Abs(z4) < 1e-20 ? 0 : z4;
        return sum <= 0 ? double.NegativeInfinity : -0.691 + 10 * Math.Log10(sum / window.Length);
    }

    /// <summary>Measures the next window of the stream on the volume scale (0..1).</summary>
    public float Measure(ReadOnlySpan<short> window) => (float)ToVolume(MeasureLufs(window));

    /// <summary>Maps a loudness in LUFS to the volume scale (0..1).</summary>
    public static double ToVolume(double lufs)
        => double.IsNegativeInfinity(lufs) ? 0 : Math.Clamp((lufs - FloorLufs) / (CeilingLufs - FloorLufs), 0, 1);
}
