using System.Globalization;
using System.Text.RegularExpressions;
using VoicePipeline.Tests.Shared;

namespace VoicePipeline.Vad.Silero.Tests;

public partial class LoudnessMeterTests
{
    /// <summary>Measures a signal window by window after <paramref name="settle"/> samples; returns each window's loudness.</summary>
    private static double[] Measure(short[] signal, int rate, int window, int settle = 0)
    {
        var meter = new LoudnessMeter(rate);
        var levels = new List<double>();
        for (var offset = 0; offset + window <= signal.Length; offset += window)
        {
            var lufs = meter.MeasureLufs(signal.AsSpan(offset, window));
            if (offset >= settle)
                levels.Add(lufs);
        }
        return [.. levels];
    }

    /// <summary>The loudness of a whole stream from its windows' loudness: the mean of their energies.</summary>
    private static double Overall(double[] levels) => 10 * Math.Log10(levels.Average(l => Math.Pow(10, l / 10)));

    private static short[] Sine(double frequency, double amplitude, int rate, double seconds)
        => Enumerable.Range(0, (int)(rate * seconds)).Select(i => (short)Math.Round(amplitude * 32767 * Math.Sin(2 * Math.PI * frequency * i / rate))).ToArray();

    [Theory]
    [InlineData(16_000, 512)]
    [InlineData(8_000, 256)]
    public void A_1_kHz_tone_reads_its_RMS_level_in_LUFS_as_BS_1770_calibrates_it(int rate, int window)
    {
        // BS.1770: a 1 kHz sine reads its RMS level (the K-weighting's +0.691 dB at 1 kHz cancels the -0.691 offset).
        var levels = Measure(Sine(1000, 0.1, rate, 2), rate, window, settle: rate);

        levels.Should().OnlyContain(l => Math.Abs(l - (-23.01)) < 0.2, string.Join(", ", levels.Take(3)));
        LoudnessMeter.ToVolume(levels[0]).Should().BeApproximately(0.87, 0.005);
    }

    [Theory]
    [InlineData("pinknoise", 16_000)]
    [InlineData("whitenoise", 16_000)]
    [InlineData("pinknoise", 8_000)]
    public void Steady_noise_reads_as_ffmpegs_ebur128_integrated_loudness(string kind, int rate)
    {
        // White noise reads louder than its RMS level (the shelf lifts its upper half), pink noise about as loud.
        var noise = VadFixtures.Noise(kind, -40, rate * 10, rate);
        var path = TestAudio.WriteWav(TestAudio.TempPath(".wav"), noise, rate);
        var ffmpeg = FfmpegIntegratedLoudness(path);
        File.Delete(path);

        var ours = Overall(Measure(noise, rate, rate == 8_000 ? 256 : 512));

        ours.Should().BeApproximately(ffmpeg, 0.5, $"ffmpeg's ebur128 reads {ffmpeg} LUFS");
    }

    [Fact]
    public void Rumble_below_the_voice_band_is_weighted_down()
    {
        var tone = Overall(Measure(Sine(1000, 0.1, 16_000, 3), 16_000, 512, settle: 16_000));
        var rumble = Overall(Measure(Sine(20, 0.1, 16_000, 3), 16_000, 512, settle: 16_000));

        (tone - rumble).Should().BeInRange(10, 16, "BS.1770's high-pass at 38 Hz takes about 13 dB off 20 Hz");
    }

    [Fact]
    public void The_volume_scale_is_Pipecats()
    {
        LoudnessMeter.ToVolume(-50).Should().BeApproximately(0.6, 1e-12, "VadParams.MinVolume 0.6 is -50 LUFS, as in Pipecat");
        LoudnessMeter.ToVolume(-110).Should().Be(0);
        LoudnessMeter.ToVolume(-10).Should().Be(1);
        LoudnessMeter.ToVolume(-130).Should().Be(0);
        LoudnessMeter.ToVolume(0).Should().Be(1);
        new LoudnessMeter(16_000).Measure(new short[512]).Should().Be(0, "digital silence");
    }

    [Fact]
    public void Windows_measured_one_by_one_continue_the_stream()
    {
        // The filter's history runs across windows: the windows' energies average to the whole stream's loudness. A
        // filter restarted at each window would lose its low end at every start.
        var noise = VadFixtures.Noise("pinknoise", -30, 16_000 * 4, 16_000);

        var whole = new LoudnessMeter(16_000).MeasureLufs(noise);

        Overall(Measure(noise, 16_000, 512)).Should().BeApproximately(whole, 1e-9);
    }

    private static double FfmpegIntegratedLoudness(string path)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "-nostdin", "-hide_banner", "-i", path, "-af", "ebur128", "-f", "null", "-" })
            psi.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(psi)!;
        _ = process.StandardOutput.ReadToEndAsync();
        var log = process.StandardError.ReadToEnd();
        process.WaitForExit();
        var summary = log[log.LastIndexOf("Summary:", StringComparison.Ordinal)..];
        return double.Parse(IntegratedLoudness().Match(summary).Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"I:\s+(-?[0-9.]+) LUFS")]
    private static partial Regex IntegratedLoudness();
}
