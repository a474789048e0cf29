namespace VoicePipeline.Audio.Tests;

public class PcmTests
{
    [Fact]
    public void Float_round_trip_is_exact_for_s16()
    {
        short[] samples = [short.MinValue, -1, 0, 1, 12345, short.MaxValue];
        var floats = new float[samples.Length];
        var back = new short[samples.Length];

        Pcm.ToFloat(samples, floats);
        Pcm.ToInt16(floats, back);

        back.Should().Equal(samples);
        floats[0].Should().Be(-1f);
    }

    [Fact]
    public void Downmix_averages_channels()
    {
        short[] stereo = [100, 300, -200, 200, 32767, 32767];
        var mono = new short[3];

        Pcm.DownmixToMono(stereo, 2, mono).Should().Be(3);

        mono.Should().Equal(200, 0, 32767);
    }

    [Fact]
    public void Volume_measures_match_theory()
    {
        var fullScaleSquare = Enumerable.Range(0, 1000).Select(i => i % 2 == 0 ? short.MaxValue : (short)-short.MaxValue).ToArray();
        Pcm.Rms(fullScaleSquare).Should().BeApproximately(1.0, 1e-3);
        Pcm.Dbfs(fullScaleSquare).Should().BeApproximately(0, 0.01);

        var quiet = Spectrum.Tone(440, 16000, 0.1, amplitude: 0.001); // about -63 dBFS
        Pcm.Loudness(quiet).Should().Be(0);
        Pcm.Loudness(Spectrum.Tone(440, 16000, 0.1, amplitude: 0.1)).Should().BeGreaterThan(0.6);
        Pcm.Dbfs(new short[100]).Should().Be(-120);
    }

    [Fact]
    public void Silence_detection_uses_the_threshold()
    {
        Pcm.IsSilence(new short[] { 0, 5, -16 }).Should().BeTrue();
        Pcm.IsSilence(new short[] { 0, 17 }).Should().BeFalse();
    }
}
