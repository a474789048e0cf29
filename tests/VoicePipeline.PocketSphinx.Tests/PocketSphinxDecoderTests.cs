using System.Diagnostics;
using VoicePipeline.Tests.Shared;

namespace VoicePipeline.PocketSphinx.Tests;

public class PocketSphinxDecoderTests
{
    private static readonly string[] s_transcripts = File.ReadAllLines(Path.Combine(TestAudio.LibriVoxDirectory, "transcription"))
        .Select(l => l.Replace("<s>", "").Split("</s>")[0].Trim()).ToArray();

    private static string[] Wavs => Directory.GetFiles(TestAudio.LibriVoxDirectory, "*.wav").Order().ToArray();

    [Fact]
    public void Recognizes_human_speech_with_word_times()
    {
        using var decoder = new PocketSphinxDecoder();
        var audio = TestAudio.Decode(Wavs[1], 16000); // "he was not an ill disposed young man"

        for (var i = 0; i < audio.Length; i += 1600)
            decoder.Process(audio.AsSpan(i, Math.Min(1600, audio.Length - i)));
        var (text, words) = decoder.EndUtterance();

        WordErrorRate.Compute(s_transcripts[1], text).Should().BeLessThan(0.3, $"heard \"{text}\"");
        words.Should().NotBeEmpty();
        words.Select(w => w.Start).Should().BeInAscendingOrder();
        words[^1].End.TotalSeconds.Should().BeLessThanOrEqualTo(audio.Length / 16000.0 + 0.01);
    }

    [Fact]
    public void The_running_hypothesis_grows_while_audio_arrives()
    {
        using var decoder = new PocketSphinxDecoder();
        var audio = TestAudio.Decode(Wavs[0], 16000);

        decoder.Process(audio.AsSpan(0, audio.Length / 2));
        var partial = decoder.GetHypothesis();
        decoder.Process(audio.AsSpan(audio.Length / 2));
        var (final, _) = decoder.EndUtterance();

        partial.Should().NotBeEmpty();
        final.Split(' ').Length.Should().BeGreaterThan(partial.Split(' ').Length);
    }

    [Fact]
    public void Utterances_follow_each_other_on_one_decoder()
    {
        using var decoder = new PocketSphinxDecoder();
        foreach (var (wav, truth) in Wavs.Zip(s_transcripts).Take(3))
        {
            var audio = TestAudio.Decode(wav, 16000);
            decoder.Process(audio);
            var (text, words) = decoder.EndUtterance();
            WordErrorRate.Compute(truth, text).Should().BeLessThan(0.5);
            words[0].Start.TotalSeconds.Should().BeLessThan(1.0, "word times count from the start of their own utterance");
            words[^1].End.TotalSeconds.Should().BeLessThanOrEqualTo(audio.Length / 16000.0 + 0.02);
        }
        decoder.EndUtterance().Text.Should().BeEmpty("no utterance is open");
    }

    [Fact]
    public void Many_decoders_in_sequence_and_in_parallel_do_not_leak()
    {
        var audio = TestAudio.Decode(Wavs[1], 16000);
        void OneSession()
        {
            using var decoder = new PocketSphinxDecoder();
            decoder.Process(audio);
            decoder.EndUtterance();
        }
        // A decoder holds about 85 MB (models and search), so a leak shows as hundreds of MB. Below that, RSS moves with
        // malloc's free lists and the managed heap (CI saw 51 MB after six clean sessions), so the bounds sit at two
        // decoders. In parallel, malloc gives each new thread an arena: a first parallel round warms up before the one
        // measured.
        OneSession();
        var before = Snapshot();
        for (var i = 0; i < 6; i++)
            OneSession();
        var afterSequence = Snapshot();

        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 2 }, _ => OneSession());
        var beforeParallel = Snapshot();
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 2 }, _ => OneSession());
        var afterParallel = Snapshot();

        (afterParallel.Fds - before.Fds).Should().BeLessThanOrEqualTo(2, "no file handles are left behind");
        (afterSequence.RssMb - before.RssMb).Should().BeLessThan(170, "six leaked decoders would add about 500 MB");
        (afterParallel.RssMb - beforeParallel.RssMb).Should().BeLessThan(250, "eight leaked decoders would add about 700 MB");
    }

    [Fact]
    public void Missing_models_name_the_packages()
    {
        var act = () => new PocketSphinxDecoder(new PocketSphinxOptions { ModelDirectory = "/nonexistent" });
        act.Should().Throw<PocketSphinxException>().WithMessage("*apt-get install libpocketsphinx3 pocketsphinx-en-us*");
    }

    private static (int Fds, double RssMb) Snapshot()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return (Directory.GetFiles("/proc/self/fd").Length, process.WorkingSet64 / 1048576.0);
    }
}
