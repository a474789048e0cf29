namespace VoicePipeline.Audio.Tests;

/// <summary>One resampler under test: a name, how much output a call may write, and the call itself.</summary>
internal sealed record ResamplerUnderTest(string Name, Func<int, int> MaxOutput, ResamplerUnderTest.ProcessFunc Process)
{
    public delegate int ProcessFunc(ReadOnlySpan<short> input, Span<short> output);

    public static ResamplerUnderTest Project(int from, int to)
    {
        var r = new StreamingResampler(from, to);
        return new("StreamingResampler", r.GetMaxOutputLength, r.Process);
    }

    public static ResamplerUnderTest Wdl(int from, int to, int sincSize)
    {
        var r = new WdlResamplerAdapter(from, to, sincSize);
        return new(sincSize > 0 ? $"WDL sinc {sincSize}" : "WDL linear+IIR", r.GetMaxOutputLength, r.Process);
    }

    public override string ToString() => Name;
}

/// <summary>The quality measurements of the resampler tests, for any resampler (a fresh instance per signal).</summary>
internal static class ResamplerQuality
{
    /// <summary>Feeds <paramref name="input"/> in chunks of <paramref name="chunk"/> samples (0: at once) and collects the output.</summary>
    public static short[] Run(ResamplerUnderTest resampler, short[] input, int chunk = 0)
    {
        var output = new List<short>();
        chunk = chunk > 0 ? chunk : input.Length;
        var buffer = new short[resampler.MaxOutput(chunk)];
        for (var i = 0; i < input.Length; i += chunk)
        {
            var n = resampler.Process(input.AsSpan(i, Math.Min(chunk, input.Length - i)), buffer);
            output.AddRange(buffer.AsSpan(0, n).ToArray());
        }
        return output.ToArray();
    }

    /// <summary>
    /// Downsampling: how far a sweep from the output's Nyquist frequency up to the input's is attenuated (it must vanish
    /// instead of aliasing). Upsampling: how far everything above 45 % of the input rate (the images of a sweep across the
    /// pass band, which ends at 40 %) stays below the sweep. In dB.
    /// </summary>
    public static double StopBandDb(Func<ResamplerUnderTest> create, int from, int to)
    {
        if (to < from)
        {
            var input = Spectrum.Sweep(to / 2.0, from / 2.0 * 0.98, from, 2.0);
            var output = Run(create(), input, from / 50);
            return 20 * Math.Log10(Spectrum.Magnitudes(input).Max() / Spectrum.Magnitudes(output).Max());
        }
        var passBand = Spectrum.Sweep(from * 0.02, from * 0.4, from, 2.0);
        var upsampled = Run(create(), passBand, from / 50);
        var spectrum = Spectrum.Magnitudes(upsampled);
        var binHz = (double)to / 2 / spectrum.Length;
        var images = spectrum.Skip((int)(from * 0.45 / binHz)).Max();
        return 20 * Math.Log10(Spectrum.Magnitudes(passBand).Max() / images);
    }

    /// <summary>Peak-to-peak level of tones across the pass band (to 40 % of the lower rate), in dB.</summary>
    public static double PassBandRippleDb(Func<ResamplerUnderTest> create, int from, int to)
    {
        var lower = Math.Min(from, to);
        var levels = new List<double>();
        for (var f = 100.0; f <= lower * 0.4; f += lower * 0.4 / 16)
        {
            var output = Run(create(), Spectrum.Tone(f, from, 1.0), from / 50);
            var (amplitude, _) = Spectrum.FitTone(output.AsSpan(to / 10, to / 2), f, to);
            levels.Add(20 * Math.Log10(amplitude / 0.5));
        }
        return levels.Max() - levels.Min();
    }

    /// <summary>Everything but a 1 kHz tone in the output, relative to the tone, in dB (distortion, aliasing, noise).</summary>
    public static double ToneResidualDb(Func<ResamplerUnderTest> create, int from, int to)
    {
        var output = Run(create(), Spectrum.Tone(1000, from, 1.0), from / 50);
        return Spectrum.FitTone(output.AsSpan(to / 10, to / 2), 1000, to).ResidualDb;
    }
}
