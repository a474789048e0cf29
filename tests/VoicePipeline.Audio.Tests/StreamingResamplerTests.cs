namespace VoicePipeline.Audio.Tests;

public class StreamingResamplerTests
{
    public static TheoryData<int, int> RatePairs()
    {
        int[] rates = [8000, 16000, 22050, 24000, 44100, 48000];
        var data = new TheoryData<int, int>();
        foreach (var a in rates)
            foreach (var b in rates)
                if (a != b)
                    data.Add(a, b);
        return data;
    }

    private static short[] Resample(short[] input, int from, int to, int chunk = 0)
        => ResamplerQuality.Run(ResamplerUnderTest.Project(from, to), input, chunk);

    [Theory]
    [MemberData(nameof(RatePairs))]
    public void A_tone_keeps_its_frequency_and_level_between_every_pair_of_rates(int from, int to)
    {
        var output = Resample(Spectrum.Tone(440, from, 1.0), from, to, chunk: from / 50);

        output.Length.Should().BeCloseTo(to, 2);
        var steady = output.AsSpan(to / 10, to / 2).ToArray(); // skip the filter's start-up
        var (amplitude, residualDb) = Spectrum.FitTone(steady, 440, to);
        amplitude.Should().BeApproximately(0.5, 0.005);
        residualDb.Should().BeLessThan(-60, "everything that is not the 440 Hz tone is distortion or aliasing");
    }

    [Fact]
    public void A_1_khz_tone_from_48_to_16_khz_has_a_residual_below_minus_70_db()
    {
        var output = Resample(Spectrum.Tone(1000, 48000, 1.0), 48000, 16000, chunk: 960);

        var (amplitude, residualDb) = Spectrum.FitTone(output.AsSpan(1600, 8000), 1000, 16000);

        amplitude.Should().BeApproximately(0.5, 0.003);
        residualDb.Should().BeLessThan(-70);
    }

    [Theory]
    [InlineData(48000, 16000)]
    [InlineData(44100, 16000)]
    [InlineData(24000, 16000)]
    [InlineData(16000, 8000)]
    public void A_sweep_across_the_stop_band_is_attenuated_by_at_least_60_db(int from, int to)
    {
        // Everything from the output's Nyquist frequency up to the input's must vanish instead of aliasing.
        var input = Spectrum.Sweep(to / 2.0, from / 2.0 * 0.98, from, 2.0);
        var inputPeak = Spectrum.Magnitudes(input).Max();

        var output = Resample(input, from, to, chunk: from / 50);
        var outputPeak = Spectrum.Magnitudes(output).Max();

        var attenuationDb = 20 * Math.Log10(inputPeak / outputPeak);
        attenuationDb.Should().BeGreaterThan(60);
    }

    [Theory]
    [InlineData(100)]
    [InlineData(1000)]
    [InlineData(3000)]
    [InlineData(6000)]
    public void The_pass_band_is_flat_within_a_tenth_of_a_decibel(double frequency)
    {
        var output = Resample(Spectrum.Tone(frequency, 48000, 1.0), 48000, 16000);

        var (amplitude, _) = Spectrum.FitTone(output.AsSpan(1600, 8000), frequency, 16000);

        (20 * Math.Log10(amplitude / 0.5)).Should().BeInRange(-0.1, 0.1);
    }

    [Theory]
    [InlineData(48000, 16000, 960)]
    [InlineData(16000, 48000, 320)]
    [InlineData(44100, 16000, 441)]
    [InlineData(22050, 24000, 97)]
    public void Frame_boundaries_are_seamless(int from, int to, int chunk)
    {
        var input = Spectrum.Sweep(50, from / 2.0 * 0.8, from, 1.0);

        var whole = Resample(input, from, to);
        var framed = Resample(input, from, to, chunk);

        framed.Should().Equal(whole, "processing in frames must give exactly what processing at once gives");
    }

    [Fact]
    public void Processing_a_frame_allocates_nothing()
    {
        var resampler = new StreamingResampler(48000, 16000);
        var frame = Spectrum.Tone(1000, 48000, 0.02);
        var output = new short[resampler.GetMaxOutputLength(frame.Length)];
        resampler.Process(frame, output);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
            resampler.Process(frame, output);

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
    }

    [Fact]
    public void Flush_returns_the_delayed_tail()
    {
        var resampler = new StreamingResampler(48000, 16000);
        var input = Spectrum.Tone(1000, 48000, 0.1);
        var output = new short[4000];
        var n = resampler.Process(input, output);
        n += resampler.Flush(output.AsSpan(n));

        n.Should().BeCloseTo(1600 + (int)Math.Ceiling(resampler.DelayInOutputSamples), 2);
    }

    [Fact]
    public void A_too_small_output_buffer_is_rejected()
    {
        var resampler = new StreamingResampler(16000, 48000);
        var act = () => resampler.Process(new short[320], new short[100]);
        act.Should().Throw<ArgumentException>().WithMessage("*may be written*");
    }
}

public class MonoConverterTests
{
    [Theory]
    [MemberData(nameof(StreamingResamplerTests.RatePairs), MemberType = typeof(StreamingResamplerTests))]
    public void Flush_returns_the_whole_filter_tail_at_any_ratio_and_reset_starts_afresh(int from, int to)
    {
        var tone = Enumerable.Range(0, from / 10).Select(i => (short)(8000 * Math.Sin(2 * Math.PI * 440 * i / from))).ToArray();
        var converter = new MonoConverter(from, 1, to);
        var reference = new StreamingResampler(from, to);

        var first = converter.Convert(tone).ToArray().Concat(converter.Flush().ToArray()).ToArray();
        converter.Reset();
        var second = converter.Convert(tone).ToArray().Concat(converter.Flush().ToArray()).ToArray();

        var expected = new short[reference.GetMaxOutputLength(tone.Length) + reference.GetMaxOutputLength(2 * reference.TapsPerPhase)];
        var count = reference.Process(tone, expected);
        var tail = reference.Flush(expected.AsSpan(count));
        tail.Should().Be((int)Math.Ceiling(reference.DelayInOutputSamples));
        first.Should().Equal(expected[..(count + tail)]);
        second.Should().Equal(first, "a reset converter forgets the previous stream");
    }

    [Theory]
    [InlineData(8000, 48000)]
    [InlineData(16000, 48000)]
    [InlineData(24000, 96000)]
    public void Flush_after_a_tiny_input_has_room_for_the_tail(int from, int to)
    {
        var converter = new MonoConverter(from, 1, to);
        converter.Convert([1000]);
        var reference = new StreamingResampler(from, to);
        converter.Flush().Length.Should().Be((int)Math.Ceiling(reference.DelayInOutputSamples));
    }
}
