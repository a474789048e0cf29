using FluentAssertions;
using VoicePipeline.Audio;
using VoicePipeline.Frames;
using VoicePipeline.Metrics;
using VoicePipeline.Testing;
using VoicePipeline.Together.Emulator;
using VoicePipeline.Together.Speech;
using Xunit;

namespace VoicePipeline.Together.Tests.Speech;

/// <summary><see cref="TogetherTtsService"/> against the emulator (espeak-ng behind Together's speech API) over real sockets.</summary>
public sealed class TogetherTtsServiceTests : IAsyncDisposable
{
    private const string Key = "sk-tts-test-5b1e-secret";
    private const string Model = TogetherTtsOptions.DefaultModel;
    private TogetherEmulator? _emulator;

    private async Task<(TogetherEmulator Emulator, TogetherTtsService Service)> StartAsync(TogetherTtsMode mode, Action<TogetherEmulatorOptions>? configure = null, Action<TogetherTtsOptions>? options = null)
    {
        var emulatorOptions = new TogetherEmulatorOptions { ApiKey = Key };
        configure?.Invoke(emulatorOptions);
        _emulator = await TogetherEmulator.StartAsync(emulatorOptions);
        var ttsOptions = new TogetherTtsOptions { ApiKey = Key, BaseUrl = _emulator.BaseUrl, Mode = mode, RetryBaseDelay = TimeSpan.FromMilliseconds(20) };
        options?.Invoke(ttsOptions);
        return (_emulator, new TogetherTtsService(ttsOptions));
    }

    private static HarnessOptions Harness(int outputRate = 24_000) => new() { AudioOutSampleRate = outputRate, EnableMetrics = true, EnableUsageMetrics = true, Timeout = TimeSpan.FromSeconds(30) };

    private static async Task SendReplyAsync(FrameProcessorHarness harness, params string[] tokens)
    {
        await harness.SendAsync(new LlmFullResponseStartFrame());
        foreach (var token in tokens)
            await harness.SendAsync(new TextFrame(token));
        await harness.SendAsync(new LlmFullResponseEndFrame());
    }

    private static byte[] AudioOf(IEnumerable<Frame> frames, string? context = null)
        => frames.OfType<TtsAudioRawFrame>().Where(f => context is null || f.ContextId == context).SelectMany(f => f.Audio.ToArray()).ToArray();

    [Theory]
    [InlineData(TogetherTtsMode.WebSocket)]
    [InlineData(TogetherTtsMode.Sse)]
    [InlineData(TogetherTtsMode.Rest)]
    public async Task Speaks_a_streamed_reply_sentence_by_sentence_bit_exact(TogetherTtsMode mode)
    {
        var (emulator, service) = await StartAsync(mode);
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await SendReplyAsync(harness, "Hello", " there.", " How are", " you today?");
        await harness.WaitForDownstreamAsync<LlmFullResponseEndFrame>();
        await harness.EndAsync();

        var frames = harness.Downstream.Where(f => f is not MetricsFrame).ToList();
        frames.OfType<TextFrame>().Where(f => f.GetType() == typeof(TextFrame)).Should().BeEmpty("the reply's tokens are consumed and spoken");
        frames.OfType<TtsStartedFrame>().Should().ContainSingle();
        frames.OfType<TtsStoppedFrame>().Should().ContainSingle().Which.IsComplete.Should().BeTrue();
        frames.IndexOf(frames.OfType<TtsStartedFrame>().Single()).Should().BeLessThan(frames.FindIndex(f => f is TtsAudioRawFrame));
        frames.FindLastIndex(f => f is TtsAudioRawFrame).Should().BeLessThan(frames.IndexOf(frames.OfType<TtsStoppedFrame>().Single()));
        frames[^1].Should().BeOfType<LlmFullResponseEndFrame>();

        emulator.SpeechRequests.Select(r => r.Text).Should().Equal("Hello there.", "How are you today?");
        var contexts = frames.OfType<TtsAudioRawFrame>().Select(f => f.ContextId).Distinct().ToList();
        contexts.Should().HaveCount(2);
        frames.OfType<TtsAudioRawFrame>().Should().OnlyContain(f => f.SampleRate == 24_000 && f.Channels == 1);
        AudioOf(frames, contexts[0]).Should().Equal(emulator.Synthesize("Hello there.", Model, TogetherTtsOptions.DefaultVoice));
        AudioOf(frames, contexts[1]).Should().Equal(emulator.Synthesize("How are you today?", Model, TogetherTtsOptions.DefaultVoice));

        var spoken = frames.OfType<TtsTextFrame>().ToList();
        if (mode == TogetherTtsMode.Rest)
        {
            spoken.Select(t => t.Text).Should().Equal("Hello there.", "How are you today?"); // no word timings over plain REST
        }
        else
        {
            spoken.Select(t => t.Text.Trim('.', '?')).Should().Equal("Hello", "there", "How", "are", "you", "today");
            spoken.Should().OnlyContain(t => t.AudioStart != null && t.AudioEnd >= t.AudioStart);
        }
    }

    [Fact]
    public async Task Audio_starts_after_the_first_sentence_not_the_whole_reply()
    {
        var (_, service) = await StartAsync(TogetherTtsMode.WebSocket);
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await harness.SendAsync(new LlmFullResponseStartFrame());
        await harness.SendAsync(new TextFrame("The first sentence is short."));
        await harness.SendAsync(new TextFrame(" The second"));

        await harness.WaitForDownstreamAsync<TtsAudioRawFrame>(); // the reply is still open

        harness.Downstream.OfType<TtsStoppedFrame>().Should().BeEmpty();
        await harness.SendAsync(new TextFrame(" one is not done yet."));
        await harness.SendAsync(new LlmFullResponseEndFrame());
        await harness.WaitForDownstreamAsync<TtsStoppedFrame>();
        harness.Downstream.OfType<TtsTextFrame>().Select(t => t.Text).Should().EndWith("yet");
        await harness.EndAsync();
    }

    [Fact]
    public async Task Audio_is_resampled_to_the_pipelines_output_rate()
    {
        var (emulator, service) = await StartAsync(TogetherTtsMode.Sse);
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness(outputRate: 16_000));
        await harness.SendAsync(new TtsSpeakFrame("Testing the output rate."));
        await harness.WaitForDownstreamAsync<TtsStoppedFrame>();
        await harness.EndAsync();

        var frames = harness.Downstream.OfType<TtsAudioRawFrame>().ToList();
        frames.Should().OnlyContain(f => f.SampleRate == 16_000);
        // Exactly what the project's resampler makes of the server's 24 kHz audio in one piece, tail included.
        var reference = Pcm.AsSamples(emulator.Synthesize("Testing the output rate.", Model, TogetherTtsOptions.DefaultVoice)).ToArray();
        var resampler = new StreamingResampler(24_000, 16_000);
        var expected = new short[resampler.GetMaxOutputLength(reference.Length) + resampler.GetMaxOutputLength(2 * resampler.TapsPerPhase)];
        var count = resampler.Process(reference, expected);
        count += resampler.Flush(expected.AsSpan(count));
        Pcm.AsSamples(AudioOf(frames)).ToArray().Should().Equal(expected[..count]);
        count.Should().BeCloseTo(reference.Length * 2 / 3 + (int)Math.Ceiling(resampler.DelayInOutputSamples), 2);
    }

    [Theory]
    [InlineData(TogetherTtsMode.WebSocket)]
    [InlineData(TogetherTtsMode.Sse)]
    public async Task An_interruption_stops_the_synthesis_at_once_and_no_stale_audio_follows(TogetherTtsMode mode)
    {
        const string Long = "This is a long answer that the user will certainly interrupt before it is over, because it goes on and on.";
        var (emulator, service) = await StartAsync(mode, o => o.SpeechFaults.ChunkInterval = TimeSpan.FromMilliseconds(40));
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await harness.SendAsync(new TtsSpeakFrame(Long));
        var first = await harness.WaitForDownstreamAsync<TtsAudioRawFrame>();

        await harness.SendAsync(new InterruptionFrame());
        await harness.WaitForDownstreamAsync<InterruptionFrame>();
        await harness.SendAsync(new TtsSpeakFrame("Yes?"));
        await harness.WaitForDownstreamAsync<TtsStoppedFrame>();
        await harness.EndAsync();

        var frames = harness.Downstream.ToList();
        var interruption = frames.FindIndex(f => f is InterruptionFrame);
        frames.Skip(interruption).OfType<TtsAudioRawFrame>().Should().OnlyContain(f => f.ContextId != first.ContextId, "nothing of the interrupted synthesis leaves after the interruption");
        var interrupted = AudioOf(frames, first.ContextId).Length;
        var whole = emulator.Synthesize(Long, Model, TogetherTtsOptions.DefaultVoice).Length;
        interrupted.Should().BeLessThan(whole / 2, "the synthesis stopped when interrupted");
        AudioOf(frames.Skip(interruption)).Should().Equal(emulator.Synthesize("Yes?", Model, TogetherTtsOptions.DefaultVoice));
        if (mode == TogetherTtsMode.WebSocket)
            emulator.SpeechRequests[0].Cancelled.Should().BeTrue("context.cancel reached the server");
    }

    [Fact]
    public async Task System_frames_overtake_a_synthesis_in_flight_without_disturbing_it()
    {
        const string Text = "The user's microphone audio keeps flowing while the bot speaks this sentence.";
        var (emulator, service) = await StartAsync(TogetherTtsMode.WebSocket, o => o.SpeechFaults.ChunkInterval = TimeSpan.FromMilliseconds(20));
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await harness.SendAsync(new TtsSpeakFrame(Text));
        await harness.WaitForDownstreamAsync<TtsAudioRawFrame>();
        var microphone = new InputAudioRawFrame(new byte[640], 16_000);
        await harness.SendAsync(microphone);
        await harness.SendAsync(new UserStartedSpeakingFrame());
        await harness.WaitForDownstreamAsync<UserStartedSpeakingFrame>();

        harness.Downstream.OfType<TtsStoppedFrame>().Should().BeEmpty("the system frames passed while the sentence was still being spoken");
        await harness.WaitForDownstreamAsync<TtsStoppedFrame>();
        await harness.EndAsync();
        harness.Downstream.Should().Contain(microphone);
        AudioOf(harness.Downstream).Should().Equal(emulator.Synthesize(Text, Model, TogetherTtsOptions.DefaultVoice));
    }

    [Fact]
    public async Task Settings_updates_change_voice_and_model_between_utterances()
    {
        var (emulator, service) = await StartAsync(TogetherTtsMode.WebSocket);
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await harness.SendAsync(new TtsSpeakFrame("Same words."));
        await harness.SendAsync(new TtsUpdateSettingsFrame { Voice = "am_adam" });
        await harness.SendAsync(new TtsSpeakFrame("Same words."));
        await harness.SendAsync(new TtsUpdateSettingsFrame { Model = "canopylabs/orpheus-3b-0.1-ft", Voice = "tara" });
        await harness.SendAsync(new TtsSpeakFrame("Same words."));
        await harness.WaitForDownstreamAsync<TtsStoppedFrame>(_ => harness.Downstream.OfType<TtsStoppedFrame>().Count() == 3);
        await harness.EndAsync();

        var contexts = harness.Downstream.OfType<TtsAudioRawFrame>().Select(f => f.ContextId).Distinct().ToList();
        contexts.Should().HaveCount(3);
        var heart = emulator.Synthesize("Same words.", Model, "af_heart");
        var adam = emulator.Synthesize("Same words.", Model, "am_adam");
        adam.Should().NotEqual(heart);
        AudioOf(harness.Downstream, contexts[0]).Should().Equal(heart);
        AudioOf(harness.Downstream, contexts[1]).Should().Equal(adam);
        AudioOf(harness.Downstream, contexts[2]).Should().Equal(emulator.Synthesize("Same words.", "canopylabs/orpheus-3b-0.1-ft", "tara"));
        emulator.SpeechRequests.Select(r => (r.Model, r.Voice)).Should().Equal(
            (Model, "af_heart"), (Model, "am_adam"), ("canopylabs/orpheus-3b-0.1-ft", "tara"));
        service.Voice.Should().Be("tara");
    }

    [Theory]
    [InlineData(TogetherTtsMode.WebSocket)]
    [InlineData(TogetherTtsMode.Sse)]
    public async Task A_speed_update_applies_to_the_next_utterance(TogetherTtsMode mode)
    {
        var (emulator, service) = await StartAsync(mode);
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await harness.SendAsync(new TtsSpeakFrame("Speak a little faster now."));
        await harness.SendAsync(new TtsUpdateSettingsFrame { Speed = 1.5 });
        await harness.SendAsync(new TtsSpeakFrame("Speak a little faster now."));
        await harness.WaitForDownstreamAsync<TtsStoppedFrame>(_ => harness.Downstream.OfType<TtsStoppedFrame>().Count() == 2);
        await harness.EndAsync();

        var contexts = harness.Downstream.OfType<TtsAudioRawFrame>().Select(f => f.ContextId).Distinct().ToList();
        var normal = AudioOf(harness.Downstream, contexts[0]);
        var fast = AudioOf(harness.Downstream, contexts[1]);
        normal.Should().Equal(emulator.Synthesize("Speak a little faster now.", Model, TogetherTtsOptions.DefaultVoice));
        fast.Should().Equal(emulator.Synthesize("Speak a little faster now.", Model, TogetherTtsOptions.DefaultVoice, speed: 1.5));
        fast.Length.Should().BeLessThan(normal.Length * 4 / 5);
        emulator.SpeechRequests.Select(r => r.Speed).Should().Equal(null, 1.5);
    }

    [Theory]
    [InlineData(TogetherTtsMode.WebSocket)]
    [InlineData(TogetherTtsMode.Sse)]
    [InlineData(TogetherTtsMode.Rest)]
    public async Task A_wrong_key_is_one_fatal_error_and_later_text_is_dropped(TogetherTtsMode mode)
    {
        var (emulator, service) = await StartAsync(mode, options: o => o.ApiKey = "sk-wrong-9d2c");
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await harness.SendAsync(new TtsSpeakFrame("First."));
        var error = await harness.WaitForUpstreamAsync<ErrorFrame>();
        await harness.SendAsync(new TtsSpeakFrame("Second."));
        await harness.EndAsync();

        error.Fatal.Should().BeTrue();
        error.Category.Should().Be(ErrorCategory.Authentication);
        error.Message.Should().NotContain("sk-wrong");
        harness.Upstream.OfType<ErrorFrame>().Should().ContainSingle();
        harness.Downstream.OfType<TtsAudioRawFrame>().Should().BeEmpty();
        emulator.SpeechRequests.Should().BeEmpty();
    }

    [Theory]
    [InlineData(TogetherTtsMode.WebSocket)]
    [InlineData(TogetherTtsMode.Sse)]
    public async Task Rate_limits_are_retried_with_backoff(TogetherTtsMode mode)
    {
        var (emulator, service) = await StartAsync(mode, o =>
        {
            o.SpeechFaults.RetryAfterSeconds = 0;
            o.SpeechFaults.FailNext(429, 503);
        });
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await harness.SendAsync(new TtsSpeakFrame("Retried."));
        await harness.WaitForDownstreamAsync<TtsStoppedFrame>();
        await harness.EndAsync();

        harness.Upstream.OfType<ErrorFrame>().Should().BeEmpty();
        AudioOf(harness.Downstream).Should().Equal(emulator.Synthesize("Retried.", Model, TogetherTtsOptions.DefaultVoice));
    }

    [Theory]
    [InlineData(TogetherTtsMode.WebSocket)]
    [InlineData(TogetherTtsMode.Sse)]
    [InlineData(TogetherTtsMode.Rest)]
    public async Task A_failure_mid_stream_is_an_error_and_never_passes_for_a_whole_utterance(TogetherTtsMode mode)
    {
        var (emulator, service) = await StartAsync(mode, o => o.SpeechFaults.FailMidStreamAfterChunks = 2);
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await harness.SendAsync(new TtsSpeakFrame("This utterance breaks in the middle of its audio, sadly."));
        var stopped = await harness.WaitForDownstreamAsync<TtsStoppedFrame>();
        var error = await harness.WaitForUpstreamAsync<ErrorFrame>();

        stopped.IsComplete.Should().BeFalse();
        error.Fatal.Should().BeFalse();
        harness.Downstream.OfType<TtsTextFrame>().Should().NotContain(t => t.Text.Contains("sadly", StringComparison.Ordinal) && t.AudioStart == null);

        emulator.Options.SpeechFaults.FailMidStreamAfterChunks = null;
        await harness.SendAsync(new TtsSpeakFrame("And then it works."));
        await harness.WaitForDownstreamAsync<TtsStoppedFrame>(s => s.IsComplete);
        await harness.EndAsync();
        harness.Upstream.OfType<ErrorFrame>().Should().ContainSingle();
    }

    [Fact]
    public async Task A_riff_header_in_the_audio_deltas_is_stripped()
    {
        var (emulator, service) = await StartAsync(TogetherTtsMode.WebSocket, o => o.SpeechFaults.RiffHeaderInAudio = true);
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await harness.SendAsync(new TtsSpeakFrame("Headers are not audio."));
        await harness.WaitForDownstreamAsync<TtsStoppedFrame>();
        await harness.EndAsync();

        AudioOf(harness.Downstream).Should().Equal(emulator.Synthesize("Headers are not audio.", Model, TogetherTtsOptions.DefaultVoice));
    }

    [Fact]
    public async Task Reports_time_to_first_byte_and_characters()
    {
        var (_, service) = await StartAsync(TogetherTtsMode.WebSocket);
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await harness.SendAsync(new TtsSpeakFrame("Measure me."));
        await harness.WaitForDownstreamAsync<TtsStoppedFrame>();
        await harness.EndAsync();

        var metrics = harness.Downstream.OfType<MetricsFrame>().SelectMany(m => m.Data).ToList();
        metrics.OfType<TtfbMetricsData>().Should().ContainSingle().Which.Value.Should().BePositive();
        metrics.OfType<UsageMetricsData>().Should().ContainSingle().Which.Characters.Should().Be("Measure me.".Length);
    }

    [Fact]
    public async Task Transcriptions_pass_through_unspoken()
    {
        var (emulator, service) = await StartAsync(TogetherTtsMode.Rest);
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await harness.SendAsync(new TranscriptionFrame("what the user said.", "user", DateTimeOffset.UtcNow, finalized: true));
        await harness.WaitForDownstreamAsync<TranscriptionFrame>();
        await harness.EndAsync();

        emulator.SpeechRequests.Should().BeEmpty();
    }

    [Fact]
    public async Task Without_a_key_the_service_reports_one_fatal_error()
    {
        await using var harness = await FrameProcessorHarness.StartAsync(new TogetherTtsService(new TogetherTtsOptions { ApiKey = null }), Harness());
        var error = await harness.WaitForUpstreamAsync<ErrorFrame>();
        await harness.SendAsync(new TtsSpeakFrame("Nothing."));
        await harness.EndAsync();

        error.Fatal.Should().BeTrue();
        error.Message.Should().Contain("TOGETHER_API_KEY");
        harness.Downstream.OfType<TtsStartedFrame>().Should().BeEmpty();
    }

    public async ValueTask DisposeAsync()
    {
        if (_emulator is not null)
            await _emulator.DisposeAsync();
    }
}
