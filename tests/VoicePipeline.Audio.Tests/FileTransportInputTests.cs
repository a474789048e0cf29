using Microsoft.Extensions.Time.Testing;
using VoicePipeline.Audio.Transports;
using VoicePipeline.Frames;
using VoicePipeline.Pipelines;
using VoicePipeline.Testing;
using VoicePipeline.Tests.Shared;

namespace VoicePipeline.Audio.Tests;

public class FileTransportInputTests
{
    [Theory]
    [InlineData(16000)]
    [InlineData(48000)]
    public async Task Plays_a_file_as_20_ms_frames_at_the_pipeline_rate_then_ends(int pipelineRate)
    {
        var speech = TestAudio.Speak("Hello from a file.", 22050);
        var path = TestAudio.Encode(speech, 22050, TestAudio.TempPath(".ogg"), 1, "-ac", "2", "-c:a", "libvorbis");

        await using var harness = await FrameProcessorHarness.StartAsync(new FileTransportInput(path, new FileTransportInputOptions { RealTime = false }),
            new HarnessOptions { AudioInSampleRate = pipelineRate });
        (await harness.Completion.WaitAsync(TimeSpan.FromSeconds(30))).Should().Be(PipelineCompletion.Ended);

        var frames = harness.Downstream.OfType<InputAudioRawFrame>().ToList();
        frames.Should().OnlyContain(f => f.SampleRate == pipelineRate && f.Channels == 1 && f.Duration == TimeSpan.FromMilliseconds(20));
        (frames.Count * 0.02).Should().BeApproximately(speech.Length / 22050.0, 0.05);
        frames.Select(f => f.PresentationTimestamp).Should().BeInAscendingOrder();
        var decoded = frames.SelectMany(f => TestAudio.FromBytes(f.Audio.Span)).ToArray();
        AudioFileTests.BestCorrelation(TestAudio.Decode(path, pipelineRate), decoded, maxLag: pipelineRate / 100).Should().BeGreaterThan(0.95);
    }

    [Fact]
    public async Task Real_time_pacing_follows_the_injected_clock()
    {
        var path = TestAudio.WriteWav(TestAudio.TempPath(".wav"), TestAudio.Silence(1.0), 16000);
        var time = new FakeTimeProvider();
        await using var harness = await FrameProcessorHarness.StartAsync(new FileTransportInput(path), new HarnessOptions { TimeProvider = time });

        await harness.WaitForDownstreamAsync<InputAudioRawFrame>();
        harness.Downstream.OfType<InputAudioRawFrame>().Should().ContainSingle("the second frame is due only 20 ms later");

        time.Advance(TimeSpan.FromMilliseconds(20));
        await harness.WaitForDownstreamAsync<InputAudioRawFrame>(f => f.PresentationTimestamp == TimeSpan.FromMilliseconds(20));
        time.Advance(TimeSpan.FromMilliseconds(100));
        await harness.WaitForDownstreamAsync<InputAudioRawFrame>(f => f.PresentationTimestamp == TimeSpan.FromMilliseconds(120));

        harness.Downstream.OfType<InputAudioRawFrame>().Should().HaveCount(7);
    }

    [Fact]
    public async Task An_undecodable_file_is_a_fatal_error_naming_it()
    {
        var path = TestAudio.TempPath(".mp3");
        await File.WriteAllTextAsync(path, "not audio");

        await using var harness = await FrameProcessorHarness.StartAsync(new FileTransportInput(path));
        var error = await harness.WaitForUpstreamAsync<ErrorFrame>();

        error.Fatal.Should().BeTrue();
        error.Category.Should().Be(ErrorCategory.InvalidRequest);
        error.Message.Should().StartWith(path);
    }

    [Fact]
    public async Task Wav_output_writes_what_it_is_given_at_the_output_rate()
    {
        var path = TestAudio.TempPath(".wav");
        var tone = Spectrum.Tone(440, 24000, 0.5);

        await FrameProcessorHarness.RunAsync(new WavFileOutput(path), [new OutputAudioRawFrame(TestAudio.ToBytes(tone), 24000)], new HarnessOptions { AudioOutSampleRate = 16000 });

        using var reader = WavReader.Open(path);
        reader.Format.SampleRate.Should().Be(16000);
        var read = new short[16000];
        var n = reader.Read(read);
        n.Should().BeCloseTo(8000, 5);
        Spectrum.FitTone(read.AsSpan(800, 6000), 440, 16000).Amplitude.Should().BeApproximately(0.5, 0.01);
    }
}
