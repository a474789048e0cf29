#pragma warning disable CS0618 // VadProcessor.InterruptOnSpeech stays tested while it is obsolete
using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using VoicePipeline.Frames;
using VoicePipeline.Testing;
using VoicePipeline.Tests.Shared;
using VoicePipeline.Vad;

namespace VoicePipeline.Vad.Silero.Tests;

public class SileroVadTests
{
    private static VadProcessor NewVad(VadParams? parameters = null) => new(new SileroVadAnalyzer(), parameters);

    private static void ShouldMatch(Segment[] actual, Segment[] truth, double tolerance = 0.3)
    {
        actual.Should().HaveSameCount(truth, $"found {string.Join(", ", actual)}; truth {string.Join(", ", truth)}");
        foreach (var (a, t) in actual.Zip(truth))
        {
            a.Start.Should().BeApproximately(t.Start, tolerance);
            a.End.Should().BeApproximately(t.End, tolerance);
        }
    }

    [Fact]
    public void The_model_is_silero_vad_v6()
    {
        using var stream = File.OpenRead(SileroVadModel.Shared.Path);
        Convert.ToHexStringLower(SHA256.HashData(stream)).Should().Be("1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3");
    }

    [Fact]
    public async Task Finds_each_espeak_sentence_within_300_ms()
    {
        var (audio, truth) = VadFixtures.Espeak.Value;
        ShouldMatch(await VadFixtures.RunAsync(NewVad(), audio, 16000), truth);
    }

    [Fact]
    public async Task Finds_each_librivox_recording_within_300_ms()
    {
        var (audio, truth) = VadFixtures.LibriVox.Value;
        ShouldMatch(await VadFixtures.RunAsync(NewVad(new VadParams { StopSecs = 0.8 }), audio, 16000), truth);
    }

    [Fact]
    public async Task Pink_noise_and_digital_silence_give_no_segment()
    {
        var noise = PinkNoise(16000 * 5, 0.3);
        Audio.Pcm.Loudness(noise).Should().BeGreaterThan(0.6, "the noise is loud enough to pass the volume gate");
        (await VadFixtures.RunAsync(NewVad(), noise, 16000)).Should().BeEmpty();
        (await VadFixtures.RunAsync(NewVad(), TestAudio.Silence(5), 16000)).Should().BeEmpty();
    }

    [Fact]
    public async Task Eight_khz_input_runs_the_model_natively()
    {
        var (audio, truth) = VadFixtures.Espeak.Value;
        var narrow = TestAudio.FromBytes(File.ReadAllBytes(TestAudio.Encode(audio, 16000, TestAudio.TempPath(".raw"), 1, "-f", "s16le", "-ar", "8000")));

        ShouldMatch(await VadFixtures.RunAsync(NewVad(), narrow, 8000), truth);
    }

    [Fact]
    public async Task Forty_eight_khz_stereo_input_is_resampled()
    {
        var (audio, truth) = VadFixtures.Espeak.Value;
        var wide = TestAudio.FromBytes(File.ReadAllBytes(TestAudio.Encode(audio, 16000, TestAudio.TempPath(".raw"), 1, "-f", "s16le", "-ar", "48000")));

        ShouldMatch(await VadFixtures.RunAsync(NewVad(), VadFixtures.Stereo(wide), 48000, channels: 2), truth);
    }

    [Fact]
    public async Task A_params_update_mid_stream_changes_behaviour()
    {
        var (audio, truth) = VadFixtures.Espeak.Value;
        var afterFirst = (int)((truth[0].End + 0.6) * 50); // frame index after the first sentence ended
        var deaf = new VadParamsUpdateFrame(new VadParams { Confidence = 1.0, MinVolume = 1.0 });

        var segments = await VadFixtures.RunAsync(NewVad(), audio, 16000, inserts: [(afterFirst, deaf)]);

        ShouldMatch(segments, truth[..1]);
    }

    [Fact]
    public async Task Interrupt_on_speech_follows_each_start_of_speech_with_an_interruption_when_allowed()
    {
        var (audio, truth) = VadFixtures.Espeak.Value;
        static List<Frame> Speaking(IEnumerable<Frame> frames) => frames.Where(f => f is UserStartedSpeakingFrame or UserStoppedSpeakingFrame or InterruptionFrame).ToList();

        var interrupting = Speaking(await VadFixtures.RunFramesAsync(new VadProcessor(new SileroVadAnalyzer()) { InterruptOnSpeech = true }, audio, 16000));
        var disallowed = Speaking(await VadFixtures.RunFramesAsync(new VadProcessor(new SileroVadAnalyzer()) { InterruptOnSpeech = true }, audio, 16000,
            options: new HarnessOptions { AllowInterruptions = false }));
        var plain = Speaking(await VadFixtures.RunFramesAsync(NewVad(), audio, 16000));

        interrupting.Select(f => f.GetType()).Should().Equal(truth.SelectMany(_ => new[] { typeof(UserStartedSpeakingFrame), typeof(InterruptionFrame), typeof(UserStoppedSpeakingFrame) }));
        disallowed.Should().NotContain(f => f is InterruptionFrame, "the pipeline does not allow interruptions");
        plain.Should().NotContain(f => f is InterruptionFrame, "interrupting is opt-in");
        plain.Should().HaveCount(2 * truth.Length);
    }

    [Fact]
    public async Task Batched_results_equal_single_stream_results()
    {
        var (audio, _) = VadFixtures.Espeak.Value;
        var streams = Enumerable.Range(0, 8).Select(i => audio.Skip(i * 1000).Take(16000 * 3).ToArray()).ToArray();
        var single = streams.Select(Probabilities).ToArray();

        using var batcher = new SileroVadBatcher();
        var batched = await ScoreAsync(batcher, streams.Length, (i, analyzer) => ProbabilitiesAsync(streams[i], analyzer, 16000, 320));

        for (var i = 0; i < streams.Length; i++)
            batched[i].Zip(single[i]).Should().OnlyContain(p => Math.Abs(p.First - p.Second) < 1e-4);
        var (batches, windows) = batcher.Statistics;
        windows.Should().Be(single.Sum(s => s.Length));
        batches.Should().BeLessThan(windows / 2, "the streams' windows share inferences");
    }

    [Fact]
    public async Task Vad_processors_sharing_a_batcher_each_find_their_sentences()
    {
        var (audio, truth) = VadFixtures.Espeak.Value;
        using var batcher = new SileroVadBatcher();

        var vads = Enumerable.Range(0, 4).Select(_ => new VadProcessor(new SileroVadAnalyzer(batcher: batcher))).ToArray();
        var found = await Task.WhenAll(vads.Select(vad => Task.Run(() => VadFixtures.RunAsync(vad, audio, 16000))));

        foreach (var segments in found)
            ShouldMatch(segments, truth);
        var (batches, windows) = batcher.Statistics;
        batches.Should().BeLessThan(windows, $"four pipelines share inferences ({batches} batches, {windows} windows)");
    }

    [Fact]
    public async Task A_partial_batch_runs_when_max_wait_has_passed()
    {
        var (audio, _) = VadFixtures.Espeak.Value;
        var clip = audio.AsMemory(16000, 512 * 3);
        var time = new FakeTimeProvider();
        using var batcher = new SileroVadBatcher(timeProvider: time) { MaxWait = TimeSpan.FromMilliseconds(5) };
        using var first = new SileroVadAnalyzer(batcher: batcher);
        using var second = new SileroVadAnalyzer(batcher: batcher);
        var results = new VadWindow[4];

        var alone = first.AnalyzeAsync(clip.Span[..512], results);
        alone.IsCompleted.Should().BeFalse("the batch waits for the other registered stream");
        time.Advance(TimeSpan.FromMilliseconds(4));
        alone.IsCompleted.Should().BeFalse();
        time.Advance(TimeSpan.FromMilliseconds(1));
        (await alone).Should().Be(1);
        batcher.Statistics.Should().Be((1, 1));

        var waiting = first.AnalyzeAsync(clip.Span[512..1024], new VadWindow[4]);
        var completing = second.AnalyzeAsync(clip.Span[..512], new VadWindow[4]);
        completing.IsCompletedSuccessfully.Should().BeTrue("the window that completes a batch runs it inline");
        (await waiting).Should().Be(1);
        batcher.Statistics.Should().Be((2, 3), "both streams' windows ran in one batch, with no time passing");
    }

    [Fact]
    public void Batched_streams_of_mixed_rates_lengths_and_chunking_equal_single_stream_results()
    {
        var (audio, _) = VadFixtures.Espeak.Value;
        // Every third stream at 8 kHz (every other sample: the model only needs consistent input); lengths and chunk
        // sizes vary, so streams join, leave and queue windows at different moments and batches hold windows of both
        // rates. 24 streams on their own threads make batches large enough to be split across cores.
        var streams = Enumerable.Range(0, 24).Select(i =>
        {
            var rate = i % 3 == 2 ? 8000 : 16000;
            var clip = audio.Skip(i * 1500).Take(rate * (1 + i % 3)).Where((_, n) => rate == 16000 || n % 2 == 0).ToArray();
            return (Audio: clip, Rate: rate, Chunk: 160 * (1 + i % 5));
        }).ToArray();
        var single = streams.Select(s => { using var a = new SileroVadAnalyzer(); return Probabilities(s.Audio, a, s.Rate, s.Chunk); }).ToArray();

        using var batcher = new SileroVadBatcher();
        var batched = ScoreOnThreads(batcher, streams.Length, (i, analyzer) => Probabilities(streams[i].Audio, analyzer, streams[i].Rate, streams[i].Chunk));

        for (var i = 0; i < streams.Length; i++)
        {
            batched[i].Should().HaveSameCount(single[i]);
            batched[i].Zip(single[i]).Should().OnlyContain(p => Math.Abs(p.First - p.Second) < 1e-4);
        }
        batcher.Statistics.Windows.Should().Be(single.Sum(s => s.Length));
    }

    [Fact]
    public async Task Batches_split_across_cores_equal_single_stream_results()
    {
        var (audio, _) = VadFixtures.Espeak.Value;
        var streams = Enumerable.Range(0, 24).Select(i => audio.Skip(i * 1500).Take(16000 * 2).ToArray()).ToArray();
        var single = streams.Select(Probabilities).ToArray();

        using var batcher = new SileroVadBatcher { SplitLargeBatches = true, MaxWait = TimeSpan.FromMilliseconds(50) };
        var batched = await ScoreAsync(batcher, streams.Length, (i, analyzer) => ProbabilitiesAsync(streams[i], analyzer, 16000, 512));

        for (var i = 0; i < streams.Length; i++)
            batched[i].Zip(single[i]).Should().OnlyContain(p => Math.Abs(p.First - p.Second) < 1e-4);
        batcher.Statistics.Windows.Should().Be(single.Sum(s => s.Length));
        batcher.SplitBatches.Should().BePositive($"batches and windows: {batcher.Statistics}");
    }

    [Fact]
    public void A_lone_stream_on_a_batcher_runs_each_window_inline_at_once()
    {
        var (audio, _) = VadFixtures.Espeak.Value;
        var clip = audio.Take(16000 * 2).ToArray();
        using var batcher = new SileroVadBatcher { MaxWait = TimeSpan.FromSeconds(10) };
        using var analyzer = new SileroVadAnalyzer(batcher: batcher);
        var thread = Environment.CurrentManagedThreadId;

        var started = System.Diagnostics.Stopwatch.StartNew();
        var batched = Probabilities(clip, analyzer, 16000, 512);

        started.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "a lone stream does not wait for streams that do not exist");
        Environment.CurrentManagedThreadId.Should().Be(thread);
        batched.Zip(Probabilities(clip)).Should().OnlyContain(p => Math.Abs(p.First - p.Second) < 1e-4);
        batcher.Statistics.Should().Be((batched.Length, batched.Length));

        var results = new VadWindow[4];
        for (var offset = 0; offset + 512 <= clip.Length; offset += 512)
            analyzer.AnalyzeAsync(clip.AsSpan(offset, 512), results).IsCompletedSuccessfully.Should().BeTrue("a lone stream's window runs inline");
    }

    /// <summary>Scores <paramref name="count"/> streams, each on its own thread with its own analyzer on <paramref name="batcher"/>.</summary>
    private static float[][] ScoreOnThreads(SileroVadBatcher batcher, int count, Func<int, SileroVadAnalyzer, float[]> score)
    {
        var results = new float[count][];
        var threads = Enumerable.Range(0, count).Select(i => new Thread(() =>
        {
            using var analyzer = new SileroVadAnalyzer(batcher: batcher);
            results[i] = score(i, analyzer);
        })).ToArray();
        foreach (var thread in threads)
            thread.Start();
        foreach (var thread in threads)
            thread.Join();
        return results;
    }

    /// <summary>
    /// Scores <paramref name="count"/> streams concurrently on the thread pool, each with its own analyzer on
    /// <paramref name="batcher"/>, all registered before any starts (like live pipelines).
    /// </summary>
    private static Task<float[][]> ScoreAsync(SileroVadBatcher batcher, int count, Func<int, SileroVadAnalyzer, Task<float[]>> score)
    {
        var analyzers = Enumerable.Range(0, count).Select(_ => new SileroVadAnalyzer(batcher: batcher)).ToArray();
        return Task.WhenAll(analyzers.Select((analyzer, i) => Task.Run(async () =>
        {
            using (analyzer)
                return await score(i, analyzer);
        })));
    }

    private static async Task<float[]> ProbabilitiesAsync(short[] audio, SileroVadAnalyzer analyzer, int rate, int chunk)
    {
        analyzer.Configure(rate, 1);
        var results = new VadWindow[analyzer.GetMaxWindows(chunk)];
        var probabilities = new List<float>();
        for (var offset = 0; offset < audio.Length; offset += chunk)
        {
            var n = await analyzer.AnalyzeAsync(audio.AsSpan(offset, Math.Min(chunk, audio.Length - offset)), results);
            probabilities.AddRange(results.Take(n).Select(r => r.Confidence));
        }
        return [.. probabilities];
    }

    private static float[] Probabilities(short[] audio, SileroVadAnalyzer analyzer, int rate, int chunk)
    {
        analyzer.Configure(rate, 1);
        var results = new VadWindow[analyzer.GetMaxWindows(chunk)];
        var probabilities = new List<float>();
        for (var offset = 0; offset < audio.Length; offset += chunk)
        {
            var n = analyzer.Analyze(audio.AsSpan(offset, Math.Min(chunk, audio.Length - offset)), results);
            probabilities.AddRange(results.Take(n).Select(r => r.Confidence));
        }
        return [.. probabilities];
    }

    private static float[] Probabilities(short[] audio) { using var a = new SileroVadAnalyzer(); return Probabilities(audio, a); }

    private static float[] Probabilities(short[] audio, SileroVadAnalyzer analyzer)
    {
        analyzer.Configure(16000, 1);
        var results = new VadWindow[analyzer.GetMaxWindows(audio.Length)];
        var n = analyzer.Analyze(audio, results);
        return results.Take(n).Select(r => r.Confidence).ToArray();
    }

    private static short[] PinkNoise(int length, double amplitude)
    {
        // Paul Kellet's economy pink filter over white noise.
        var random = new Random(7);
        double b0 = 0, b1 = 0, b2 = 0;
        var result = new short[length];
        for (var i = 0; i < length; i++)
        {
            var white = random.NextDouble() * 2 - 1;
            b0 = 0.99765 * b0 + white * 0.0990460;
            b1 = 0.96300 * b1 + white * 0.2965164;
            b2 = 0.57000 * b2 + white * 1.0526913;
            result[i] = (short)Math.Clamp((b0 + b1 + b2 + white * 0.1848) * amplitude * 32767 / 3, short.MinValue, short.MaxValue);
        }
        return result;
    }
}
