using Xunit.Abstractions;

namespace VoicePipeline.Audio.Tests;

/// <summary>
/// NAudio's WDL resampler measured against the project's <see cref="StreamingResampler"/> with the quality measurements
/// of the resampler tests, for every conversion the pipeline makes. The figures are printed (the README quotes them); the
/// assertions pin why the project keeps its own resampler for every one of these uses.
/// </summary>
public class ResamplerComparisonTests(ITestOutputHelper output)
{
    /// <summary>STT input (48 kHz to 16 kHz), TTS output (24 kHz to 16 and 48 kHz), telephony (8 kHz to and from 16 kHz).</summary>
    public static TheoryData<int, int> Uses() => new() { { 48_000, 16_000 }, { 24_000, 16_000 }, { 24_000, 48_000 }, { 8_000, 16_000 }, { 16_000, 8_000 } };

    [Theory]
    [MemberData(nameof(Uses))]
    public void The_project_resampler_meets_the_bar_where_wdl_as_naudio_configures_it_does_not(int from, int to)
    {
        var project = Measure(() => ResamplerUnderTest.Project(from, to), from, to);
        var wdlSinc = Measure(() => ResamplerUnderTest.Wdl(from, to, 64), from, to);
        var wdlLongSinc = Measure(() => ResamplerUnderTest.Wdl(from, to, 256), from, to);
        var wdlLinear = Measure(() => ResamplerUnderTest.Wdl(from, to, 0), from, to);

        output.WriteLine($"{from} -> {to} Hz          stop band   ripple   1 kHz residual");
        foreach (var (name, m) in new[] { ("StreamingResampler", project), ("WDL sinc 64", wdlSinc), ("WDL sinc 256", wdlLongSinc), ("WDL linear+IIR", wdlLinear) })
            output.WriteLine($"  {name,-20} {m.StopBandDb,7:F1} dB {m.RippleDb,6:F2} dB {m.ResidualDb,8:F1} dB");

        // The project's resampler meets the bar of its own tests at every use...
        project.StopBandDb.Should().BeGreaterThan(60);
        project.RippleDb.Should().BeLessThan(0.2);
        project.ResidualDb.Should().BeLessThan(-80, "a 1 kHz tone comes out clean to about the 16-bit floor");
        // ...and WDL as NAudio configures it by default does not, which is why the pipeline keeps its own. (WDL's 256-tap
        // sinc does meet it, at about nine times the cost: see the resample benchmark's wdl_* fields.)
        wdlLinear.RippleDb.Should().BeGreaterThan(1, "linear interpolation (after IIR filters when downsampling) rolls off the upper pass band");
        if (to < from)
            wdlSinc.StopBandDb.Should().BeLessThan(60, "WDL's 64-tap sinc is centred just below the lower Nyquist frequency and lets the band above it alias");
    }

    [Fact]
    public void Wdl_keeps_a_tone_where_it_was_so_the_comparison_is_fair()
    {
        // The same tone test the project's resampler passes at every rate pair, loosened to what WDL can do: if this
        // failed, the adapter (not WDL) would be broken and the comparison meaningless.
        var wdl = ResamplerUnderTest.Wdl(48_000, 16_000, 64);
        var resampled = ResamplerQuality.Run(wdl, Spectrum.Tone(440, 48_000, 1.0), 960);

        resampled.Length.Should().BeCloseTo(16_000, 64);
        var (amplitude, residualDb) = Spectrum.FitTone(resampled.AsSpan(1600, 8000), 440, 16_000);
        amplitude.Should().BeApproximately(0.5, 0.02);
        residualDb.Should().BeLessThan(-30);
    }

    private static (double StopBandDb, double RippleDb, double ResidualDb) Measure(Func<ResamplerUnderTest> create, int from, int to) =>
        (ResamplerQuality.StopBandDb(create, from, to), ResamplerQuality.PassBandRippleDb(create, from, to), ResamplerQuality.ToneResidualDb(create, from, to));
}
