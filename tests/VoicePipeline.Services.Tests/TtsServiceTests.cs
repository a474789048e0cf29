using VoicePipeline.Frames;
using VoicePipeline.Metrics;
using VoicePipeline.Pipelines;
using VoicePipeline.Testing;

namespace VoicePipeline.Services.Tests;

/// <summary><see cref="TtsService"/> with an in-memory provider: the protocol, without sockets.</summary>
public class TtsServiceTests
{
    private static HarnessOptions Harness(int outputRate = 24_000) => new() { AudioOutSampleRate = outputRate, EnableMetrics = true, EnableUsageMetrics = true };

    [Fact]
    public async Task A_streamed_reply_is_spoken_sentence_by_sentence_between_one_start_and_one_stop()
    {
        var tts = new FakeTts(new TtsSettings { Voice = "v1", Model = "m" }, "tts");
        await using var harness = await FrameProcessorHarness.StartAsync(tts, Harness());
        await harness.SendAsync(new LlmFullResponseStartFrame());
        foreach (var token in new[] { "Hello", " there.", " How are", " you today?" })
            await harness.SendAsync(new TextFrame(token));
        await harness.SendAsync(new LlmFullResponseEndFrame());
        await harness.WaitForDownstreamAsync<LlmFullResponseEndFrame>();
        await harness.EndAsync();

        tts.Requests.Select(r => r.Text).Should().Equal("Hello there.", "How are you today?");
        var frames = harness.Downstream.Where(f => f is not MetricsFrame).ToList();
        frames.OfType<TtsStartedFrame>().Should().ContainSingle();
        frames.OfType<TtsStoppedFrame>().Should().ContainSingle().Which.IsComplete.Should().BeTrue();
        frames.OfType<TtsTextFrame>().Select(t => t.Text).Should().Equal("Hello there.", "How are you today?");
        frames.AudioOf().Should().Equal(FakeTts.SamplesOf("Hello there.").Concat(FakeTts.SamplesOf("How are you today?")));
        frames.OfType<TtsAudioRawFrame>().Select(f => f.ContextId).Distinct().Should().Equal("tts-1", "tts-2");
        frames.IndexOf(frames.OfType<TtsStoppedFrame>().Single()).Should().BeGreaterThan(frames.FindLastIndex(f => f is TtsAudioRawFrame));
        frames[^1].Should().BeOfType<LlmFullResponseEndFrame>();
        var metrics = harness.Downstream.OfType<MetricsFrame>().SelectMany(m => m.Data).ToList();
        metrics.OfType<TtfbMetricsData>().Should().HaveCount(2);
        metrics.OfType<UsageMetricsData>().Sum(u => u.Characters).Should().Be("Hello there.How are you today?".Length);
    }

    [Fact]
    public async Task An_interruption_cancels_the_synthesis_and_nothing_of_it_follows()
    {
        var tts = new FakeTts(new TtsSettings(), "tts") { Hold = new TaskCompletionSource() };
        await using var harness = await FrameProcessorHarness.StartAsync(tts, Harness());
        await harness.SendAsync(new TtsSpeakFrame("a long answer the user will cut short"));
        var first = await harness.WaitForDownstreamAsync<TtsAudioRawFrame>();

        await harness.SendAsync(new InterruptionFrame());
        (await tts.Cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10))).Should().BeTrue();
        await harness.WaitForDownstreamAsync<InterruptionFrame>();
        tts.Hold = null;
        await harness.SendAsync(new TtsSpeakFrame("Yes?"));
        await harness.WaitForDownstreamAsync<TtsStoppedFrame>();
        await harness.EndAsync();

        var frames = harness.Downstream.ToList();
        var interruption = frames.FindIndex(f => f is InterruptionFrame);
        frames.Skip(interruption).OfType<TtsAudioRawFrame>().Should().OnlyContain(f => f.ContextId != first.ContextId);
        frames.AudioOf(first.ContextId).Should().Equal(FakeTts.SamplesOf("a lo"), "only the first chunk went out");
        frames.Skip(interruption).AudioOf().Should().Equal(FakeTts.SamplesOf("Yes?"));
        frames.Skip(interruption).OfType<TtsStartedFrame>().Should().ContainSingle("the interrupted reply's state was reset");
    }

    [Fact]
    public async Task Text_filters_change_what_is_synthesized_not_what_is_reported_spoken()
    {
        var tts = new FakeTts(new TtsSettings(), "tts") { TextFilters = [new MarkdownTextFilter()] };
        var result = await FrameProcessorHarness.RunAsync(tts, [new TtsSpeakFrame("**Bold** and `code`, see [the docs](http://x).")], Harness());

        tts.Requests.Single().Text.Should().Be("Bold and code, see the docs.");
        result.DownstreamOf<TtsTextFrame>().Single().Text.Should().Be("**Bold** and `code`, see [the docs](http://x).");
    }

    [Fact]
    public async Task A_permanent_failure_is_one_fatal_error_and_later_text_is_dropped()
    {
        var tts = new FakeTts(new TtsSettings(), "tts") { Failure = new UnauthorizedAccessException("wrong key") };
        var result = await FrameProcessorHarness.RunAsync(tts, [new TtsSpeakFrame("First."), new TtsSpeakFrame("Second.")], Harness());

        var error = result.UpstreamOf<ErrorFrame>().Should().ContainSingle().Subject;
        error.Fatal.Should().BeTrue();
        error.Category.Should().Be(ErrorCategory.Authentication);
        tts.Requests.Should().ContainSingle();
        result.DownstreamOf<TtsStoppedFrame>().Should().ContainSingle().Which.IsComplete.Should().BeFalse();
        result.DownstreamOf<TtsAudioRawFrame>().Should().BeEmpty();
    }

    [Fact]
    public async Task Audio_is_resampled_to_the_pipelines_output_rate()
    {
        var text = new string('a', 2400) + ".";
        var tts = new FakeTts(new TtsSettings(), "tts");
        var result = await FrameProcessorHarness.RunAsync(tts, [new TtsSpeakFrame(text)], Harness(outputRate: 16_000));

        result.DownstreamOf<TtsAudioRawFrame>().Should().OnlyContain(f => f.SampleRate == 16_000);
        result.Downstream.AudioOf().Length.Should().BeCloseTo(text.Length * 2 / 3, 40, "two thirds of the samples, and the resampler's tail");
    }

    [Fact]
    public async Task A_targeted_update_changes_only_its_service_and_travels_on()
    {
        var first = new FakeTts(new TtsSettings { Voice = "v1" }, "tts-a");
        var second = new FakeTts(new TtsSettings { Voice = "v1" }, "tts-b");
        var update = new TtsUpdateSettingsFrame { Voice = "v2", TargetService = second };
        var everyone = new TtsUpdateSettingsFrame { Speed = 1.25 };
        var result = await FrameProcessorHarness.RunAsync(new Pipeline(first, second), [update, everyone], Harness());

        first.Settings.Should().Be(new TtsSettings { Voice = "v1", Speed = 1.25 });
        second.Settings.Should().Be(new TtsSettings { Voice = "v2", Speed = 1.25 });
        result.DownstreamOf<TtsUpdateSettingsFrame>().Should().Equal(update, everyone);
    }
}
