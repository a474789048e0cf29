using Microsoft.Extensions.Time.Testing;
using VoicePipeline.Audio.Transports;
using VoicePipeline.Frames;
using VoicePipeline.Pipelines;
using VoicePipeline.Testing;
using VoicePipeline.Tests.Shared;
using VoicePipeline.Transports;

namespace VoicePipeline.Audio.Tests;

public class WavFileOutputTests
{
    private const int Rate = 16_000;

    [Fact]
    public async Task Real_time_records_the_conversation_as_heard_and_fast_mode_only_the_speech()
    {
        var speech = TestAudio.Speak("Half a second of reply.", Rate).AsSpan(0, Rate / 2).ToArray();

        var realTime = await RecordAsync(speech, new OutputTransportOptions { RealTime = true });
        var fast = await RecordAsync(speech, options: null);

        Seconds(realTime).Should().BeApproximately(1.5, 0.02, "one second of silence by the clock, then the half second reply");
        realTime.AsSpan(0, Rate - 160).ToArray().Should().OnlyContain(s => s == 0, "nothing played for the first second");
        AudioFileTests.BestCorrelation(speech, realTime.AsSpan(Rate - 320).ToArray(), maxLag: 640).Should().BeGreaterThan(0.99);
        Seconds(fast).Should().BeApproximately(0.5, 0.001, "fast mode writes the audio as it comes, and no input timeline was given");
        AudioFileTests.BestCorrelation(speech, fast, maxLag: 160).Should().BeGreaterThan(0.99);
    }

    [Fact]
    public async Task Fast_mode_puts_the_bot_speech_on_the_input_timeline()
    {
        var path = TestAudio.TempPath(".wav");
        var speech = TestAudio.Speak("A reply.", Rate).AsSpan(0, Rate / 2).ToArray();
        await using var harness = await FrameProcessorHarness.StartAsync(new WavFileOutput(path), new HarnessOptions { AudioOutSampleRate = Rate });

        await SendInputAsync(harness, from: 0, seconds: 2.0); // the user spoke for two seconds...
        await harness.WaitForDownstreamAsync<InputAudioRawFrame>(f => f.PresentationTimestamp == TimeSpan.FromSeconds(1.98));
        await harness.SendAsync(new TtsAudioRawFrame(TestAudio.ToBytes(speech), Rate) { ContextId = "reply" }); // ...then the bot answered
        await harness.WaitForDownstreamAsync<BotStartedSpeakingFrame>();
        await SendInputAsync(harness, from: 2.0, seconds: 2.0); // and the input went on to four seconds
        (await harness.EndAsync()).Should().Be(PipelineCompletion.Ended);

        var written = TestAudio.Decode(path, Rate);
        Seconds(written).Should().BeApproximately(4.0, 0.001, "padded with silence to the end of the input");
        written.AsSpan(0, 2 * Rate).ToArray().Should().OnlyContain(s => s == 0);
        written.AsSpan(2 * Rate, Rate / 2).ToArray().Should().Equal(speech, "the reply starts where the input had got to");
    }

    private static async Task<short[]> RecordAsync(short[] speech, OutputTransportOptions? options)
    {
        var path = TestAudio.TempPath(".wav");
        var time = new FakeTimeProvider();
        var output = new WavFileOutput(path, options);
        await using (var harness = await FrameProcessorHarness.StartAsync(output, new HarnessOptions { TimeProvider = time, AudioOutSampleRate = Rate }))
        {
            // A frame behind the start frame comes out once the transport has started (its clock's origin is taken).
            await harness.SendAsync(new MetricsFrame([]));
            await harness.WaitForDownstreamAsync<MetricsFrame>();
            time.Advance(TimeSpan.FromSeconds(1)); // a second with nothing to say
            await harness.SendAsync(new TtsAudioRawFrame(TestAudio.ToBytes(speech), Rate) { ContextId = "reply" });
            await harness.WaitForDownstreamAsync<BotStartedSpeakingFrame>();
            var taken = System.Diagnostics.Stopwatch.StartNew();
            while (options?.RealTime == true && output.QueuedAudio < TimeSpan.FromSeconds(0.48) && taken.Elapsed < TimeSpan.FromSeconds(10))
                await Task.Yield(); // the transport takes the rest of the frame on its own loop; the clock holds its first chunk
            time.Advance(TimeSpan.FromSeconds(0.5)); // the reply plays
            (await harness.EndAsync()).Should().Be(PipelineCompletion.Ended);
        }
        return TestAudio.Decode(path, Rate);
    }

    private static async Task SendInputAsync(FrameProcessorHarness harness, double from, double seconds)
    {
        var frame = new byte[Rate / 50 * 2];
        for (var t = 0; t < (int)Math.Round(seconds * 50); t++)
            await harness.SendAsync(new InputAudioRawFrame(frame, Rate) { PresentationTimestamp = TimeSpan.FromSeconds(from) + TimeSpan.FromMilliseconds(20 * t) });
    }

    private static double Seconds(short[] samples) => (double)samples.Length / Rate;
}
