using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using VoicePipeline.Frames;
using VoicePipeline.Testing;
using VoicePipeline.Tests.Shared;
using VoicePipeline.Together.Emulator;
using VoicePipeline.Together.Emulator.Recognition;
using VoicePipeline.Together.Realtime;

namespace VoicePipeline.Together.Tests.Realtime;

public sealed class TogetherSttServiceTests : IAsyncDisposable
{
    private const string Key = "sk-test-7f3a9c-secret";
    private TogetherEmulator? _emulator;
    private readonly FakeLogCollector _logs = new();

    private async Task<(TogetherEmulator Emulator, TogetherSttService Service)> StartAsync(
        Action<TogetherEmulatorOptions>? configure = null, Action<TogetherSttOptions>? options = null, params string[] script)
    {
        // These tests assert on what the emulator received: they opt in to its recording.
        var emulatorOptions = new TogetherEmulatorOptions { ApiKey = Key, Recognizer = new ScriptedRecognizerFactory(script) { SamplesPerWord = 4800 }, RecordRealtimeSessions = true };
        configure?.Invoke(emulatorOptions);
        _emulator = await TogetherEmulator.StartAsync(emulatorOptions);
        var sttOptions = new TogetherSttOptions
        {
            ApiKey = Key,
            BaseUrl = _emulator.BaseUrl,
            ReconnectBaseDelay = TimeSpan.FromMilliseconds(10),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(50),
            FinalTranscriptTimeout = TimeSpan.FromSeconds(5),
        };
        options?.Invoke(sttOptions);
        return (_emulator, new TogetherSttService(sttOptions));
    }

    private HarnessOptions Harness(int rate = 16000) => new()
    {
        AudioInSampleRate = rate,
        LoggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(_logs))),
        EnableMetrics = true,
        EnableUsageMetrics = true,
    };

    /// <summary>Sends <paramref name="seconds"/> of a tone as 20 ms frames; returns the bytes sent.</summary>
    private static async Task<byte[]> SendToneAsync(FrameProcessorHarness harness, double seconds, int rate = 16000, int channels = 1, double frequency = 440)
    {
        var tone = Enumerable.Range(0, (int)(seconds * rate)).Select(i => (short)(8000 * Math.Sin(2 * Math.PI * frequency * i / rate))).ToArray();
        var interleaved = channels == 1 ? tone : tone.SelectMany(s => Enumerable.Repeat(s, channels)).ToArray();
        var bytes = TestAudio.ToBytes(interleaved);
        var perFrame = rate / 50 * 2 * channels;
        for (var offset = 0; offset < bytes.Length; offset += perFrame)
            await harness.SendAsync(new InputAudioRawFrame(bytes.AsMemory(offset, Math.Min(perFrame, bytes.Length - offset)), rate, channels));
        return bytes;
    }

    private static async Task SpeakAsync(FrameProcessorHarness harness, double seconds, double at)
    {
        await harness.SendAsync(new UserStartedSpeakingFrame { Timestamp = TimeSpan.FromSeconds(at + 0.2), StartSecs = 0.2 });
        await SendToneAsync(harness, seconds);
        await harness.SendAsync(new UserStoppedSpeakingFrame { Timestamp = TimeSpan.FromSeconds(at + seconds), StopSecs = 0.2 });
    }

    [Fact]
    public async Task Connects_with_the_documented_url_and_headers()
    {
        var (emulator, service) = await StartAsync();
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await SpeakAsync(harness, 0.5, 0);
        await harness.WaitForDownstreamAsync<TranscriptionFrame>();
        await harness.EndAsync();

        var session = emulator.RealtimeSessions.Should().ContainSingle().Subject;
        session.Url.Should().Be("/v1/realtime?intent=transcription&model=openai%2Fwhisper-large-v3&input_audio_format=pcm_s16le_16000&turn_detection=none");
        session.Headers["Authorization"].Should().Be("Bearer ***");
        session.Headers["OpenAI-Beta"].Should().Be("realtime=v1");
    }

    [Fact]
    public async Task Audio_arrives_intact_at_16_khz()
    {
        var (emulator, service) = await StartAsync();
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await harness.SendAsync(new UserStartedSpeakingFrame());
        var sent = await SendToneAsync(harness, 2.5);
        await harness.SendAsync(new UserStoppedSpeakingFrame());
        await harness.WaitForDownstreamAsync<TranscriptionFrame>();
        await harness.EndAsync();

        var session = emulator.RealtimeSessions.Single();
        session.Audio.Should().Equal(sent);
        session.LargestAppendBytes.Should().BeLessThanOrEqualTo(32000, "an append never holds more than 1000 ms");
    }

    [Fact]
    public async Task With_an_append_interval_the_audio_arrives_intact_in_fewer_larger_appends_and_is_transcribed()
    {
        var (emulator, service) = await StartAsync(options: o => o.AppendInterval = TimeSpan.FromMilliseconds(100), script: "gathered audio");
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await harness.SendAsync(new UserStartedSpeakingFrame());
        var sent = await SendToneAsync(harness, 1.5);
        await harness.SendAsync(new UserStoppedSpeakingFrame());
        var final = await harness.WaitForDownstreamAsync<TranscriptionFrame>();
        await harness.EndAsync();

        final.Text.Should().Be("gathered audio");
        var session = emulator.RealtimeSessions.Single();
        session.Audio.Should().Equal(sent);
        session.LargestAppendBytes.Should().BeGreaterThanOrEqualTo(3200, "100 ms of 16 kHz audio went in one append");
        session.Events.Count(e => e == "input_audio_buffer.append").Should().BeLessThanOrEqualTo(16, "75 frames of 20 ms went in about 15 appends");
    }

    [Fact]
    public async Task Audio_at_48_khz_stereo_is_resampled_to_16_khz_mono()
    {
        var (emulator, service) = await StartAsync();
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness(48000));
        await harness.SendAsync(new UserStartedSpeakingFrame());
        await SendToneAsync(harness, 2.0, rate: 48000, channels: 2, frequency: 1000);
        await harness.SendAsync(new UserStoppedSpeakingFrame());
        await harness.WaitForDownstreamAsync<TranscriptionFrame>();
        await harness.EndAsync();

        var received = TestAudio.FromBytes(emulator.RealtimeSessions.Single().Audio);
        received.Length.Should().BeCloseTo(32000, 40);
        var (amplitude, residualDb) = Audio.Tests.Spectrum.FitTone(received.AsSpan(1600, 16000), 1000, 16000);
        amplitude.Should().BeApproximately(8000 / 32768.0, 0.005);
        residualDb.Should().BeLessThan(-50);
    }

    [Fact]
    public async Task Each_stop_commits_once_and_interims_precede_the_final()
    {
        var (emulator, service) = await StartAsync(script: ["one two three four five", "six seven"]);
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await SpeakAsync(harness, 1.0, 0);
        await SpeakAsync(harness, 0.6, 2);
        await harness.WaitForDownstreamAsync<TranscriptionFrame>(t => t.Text == "six seven");
        await harness.EndAsync();

        emulator.RealtimeSessions.Single().Events.Count(e => e == RealtimeEventTypes.Commit).Should().Be(2);
        var texts = harness.Downstream.OfType<TextFrame>().Select(t => (t is TranscriptionFrame f ? "final:" : "interim:") + t.Text).ToList();
        texts.Should().ContainInOrder("final:one two three four five", "final:six seven");
        // How far the interim got depends on how the audio was split into appends (one big replay if the socket opened
        // after the speech started), so only its start is fixed.
        texts.FindIndex(t => t.StartsWith("interim:one", StringComparison.Ordinal)).Should().BeInRange(0, texts.IndexOf("final:one two three four five") - 1);
        texts.IndexOf("final:one two three four five").Should().BeLessThan(texts.FindIndex(t => t.StartsWith("interim:six", StringComparison.Ordinal)));
        var final = harness.Downstream.OfType<TranscriptionFrame>().First();
        final.Finalized.Should().BeTrue();
        final.AudioStart.Should().Be(TimeSpan.Zero);
        final.AudioEnd.Should().Be(TimeSpan.FromSeconds(0.8));
        harness.Downstream.OfType<MetricsFrame>().SelectMany(m => m.Data).Should().Contain(d => d is Metrics.TtfsMetricsData);
    }

    [Fact]
    public async Task Empty_completions_produce_no_frame()
    {
        var (_, service) = await StartAsync(script: ["", "words"]);
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await SpeakAsync(harness, 0.3, 0);
        await SpeakAsync(harness, 0.3, 1);
        await harness.WaitForDownstreamAsync<TranscriptionFrame>();
        await harness.EndAsync();

        harness.Downstream.OfType<TranscriptionFrame>().Select(t => t.Text).Should().Equal("words");
    }

    [Fact]
    public async Task A_drop_in_the_middle_of_an_utterance_loses_none_of_it()
    {
        var (emulator, service) = await StartAsync(o => o.RealtimeFaults.DropAfterAudioBytes = 16000, script: ["the whole sentence"]);
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await harness.SendAsync(new UserStartedSpeakingFrame());
        var sent = await SendToneAsync(harness, 2.0);
        await harness.SendAsync(new UserStoppedSpeakingFrame());

        (await harness.WaitForDownstreamAsync<TranscriptionFrame>()).Text.Should().Be("the whole sentence");
        await harness.EndAsync();

        var sessions = emulator.RealtimeSessions.Where(s => s.Accepted).ToList();
        sessions.Should().HaveCount(2);
        sessions[1].Audio.Should().Equal(sent, "the reconnected session received the whole utterance again");
        harness.Upstream.OfType<ErrorFrame>().Should().BeEmpty("a recovered drop is not an error");
    }

    [Fact]
    public async Task An_overloaded_close_code_reconnects_and_replays()
    {
        var (emulator, service) = await StartAsync(o => { o.RealtimeFaults.DropAfterAudioBytes = 8000; o.RealtimeFaults.DropWithCloseCode = 4503; }, script: ["after overload"]);
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await SpeakAsync(harness, 1.0, 0);

        (await harness.WaitForDownstreamAsync<TranscriptionFrame>()).Text.Should().Be("after overload");
        await harness.EndAsync();
        emulator.RealtimeSessions.Count(s => s.Accepted).Should().Be(2);
    }

    [Fact]
    public async Task A_failed_turn_is_a_non_fatal_error_and_the_session_goes_on()
    {
        var (_, service) = await StartAsync(o => o.RealtimeFaults.FailTurns.Add(1), script: ["lost", "kept"]);
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await SpeakAsync(harness, 0.4, 0);
        var error = await harness.WaitForUpstreamAsync<ErrorFrame>();
        await SpeakAsync(harness, 0.4, 1);

        (await harness.WaitForDownstreamAsync<TranscriptionFrame>()).Text.Should().Be("kept");
        error.Fatal.Should().BeFalse();
        error.Category.Should().Be(ErrorCategory.Processing);
        await harness.EndAsync();
    }

    [Fact]
    public async Task A_wrong_key_is_one_fatal_error_with_bounded_attempts_and_never_shows_the_key()
    {
        var (emulator, service) = await StartAsync(options: o => o.ApiKey = "sk-wrong-9d2e-secret");
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        var error = await harness.WaitForUpstreamAsync<ErrorFrame>();
        await SendToneAsync(harness, 0.2);
        await harness.EndAsync();

        error.Fatal.Should().BeTrue();
        error.Category.Should().Be(ErrorCategory.Authentication);
        error.Message.Should().Contain("401");
        harness.Upstream.OfType<ErrorFrame>().Should().ContainSingle();
        emulator.RealtimeSessions.Count.Should().BeInRange(1, 3);
        AssertNoSecret("sk-wrong-9d2e-secret", error);
    }

    [Fact]
    public async Task Rejected_handshakes_are_retried_with_backoff()
    {
        var (emulator, service) = await StartAsync(o => { o.RealtimeFaults.RejectHandshakeStatus = 503; o.RealtimeFaults.RejectHandshakeCount = 2; }, script: ["third time lucky"]);
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await SpeakAsync(harness, 0.4, 0);

        (await harness.WaitForDownstreamAsync<TranscriptionFrame>()).Text.Should().Be("third time lucky");
        await harness.EndAsync();
        emulator.RealtimeSessions.Select(s => s.Accepted).Should().Equal(false, false, true);
    }

    [Fact]
    public async Task A_stalled_server_does_not_hang_the_end_of_the_stream()
    {
        var (_, service) = await StartAsync(o => o.RealtimeFaults.StallAfterAudioBytes = 1, options: o => o.FinalTranscriptTimeout = TimeSpan.FromMilliseconds(500));
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await SpeakAsync(harness, 0.4, 0);

        (await harness.EndAsync()).Should().Be(Pipelines.PipelineCompletion.Ended);
        harness.Upstream.OfType<ErrorFrame>().Should().ContainSingle().Which.Message.Should().Contain("No final transcript");
    }

    [Fact]
    public async Task A_server_that_stalls_mid_conversation_is_replaced_and_the_utterance_replayed()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var (emulator, service) = await StartAsync(o => { o.RealtimeFaults.StallAfterAudioBytes = 8000; o.RealtimeFaults.StallCount = 1; },
            o => o.StallTimeout = TimeSpan.FromSeconds(4), script: ["after the stall"]);
        var harness = Harness();
        harness.TimeProvider = clock;
        await using var run = await FrameProcessorHarness.StartAsync(service, harness);
        await SpeakAsync(run, 0.5, 0);
        // The committed utterance waits; once the emulator has taken the commit (it answers nothing), four seconds pass.
        await emulator.WaitForRealtimeEventAsync("input_audio_buffer.commit").WaitAsync(TimeSpan.FromSeconds(30));
        clock.Advance(TimeSpan.FromSeconds(4));

        var final = await run.WaitForDownstreamAsync<TranscriptionFrame>();
        await run.EndAsync();

        final.Text.Should().Be("after the stall");
        emulator.RealtimeSessions.Should().HaveCount(2, "the stalled connection was replaced");
        emulator.RealtimeSessions[1].AudioBytesReceived.Should().Be(emulator.RealtimeSessions[0].AudioBytesReceived, "the whole utterance was replayed");
        run.Upstream.OfType<ErrorFrame>().Should().BeEmpty("a recovered stall is not an error");
    }

    [Fact]
    public async Task Garbage_and_unknown_events_are_ignored()
    {
        var (_, service) = await StartAsync(o => o.RealtimeFaults.SendGarbage = true, script: ["still fine"]);
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await SpeakAsync(harness, 0.4, 0);

        (await harness.WaitForDownstreamAsync<TranscriptionFrame>()).Text.Should().Be("still fine");
        await harness.EndAsync();
        harness.Upstream.OfType<ErrorFrame>().Should().BeEmpty();
    }

    [Fact]
    public async Task Settings_update_language_live_and_model_with_a_new_connection_between_turns()
    {
        var (emulator, service) = await StartAsync(script: ["first", "second"]);
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await SpeakAsync(harness, 0.4, 0);
        await harness.WaitForDownstreamAsync<TranscriptionFrame>();
        // Audio frames are system frames and would overtake the update: let it pass the service first.
        await harness.SendAsync(new SttUpdateSettingsFrame { Language = "fr", Model = "nvidia/parakeet-tdt-0.6b-v3" });
        await harness.WaitForDownstreamAsync<SttUpdateSettingsFrame>();
        await SpeakAsync(harness, 0.4, 1);

        var second = await harness.WaitForDownstreamAsync<TranscriptionFrame>(t => t.Language == "fr");
        await harness.EndAsync();

        var sessions = emulator.RealtimeSessions.Where(s => s.Accepted).ToList();
        sessions.Count.Should().BeGreaterThanOrEqualTo(2);
        sessions[0].Url.Should().Contain("model=openai%2Fwhisper-large-v3");
        sessions[0].Events.Should().Contain(RealtimeEventTypes.SessionUpdate, "the language went live on the first connection");
        sessions.Skip(1).Should().OnlyContain(s => s.Url.Contains("model=nvidia%2Fparakeet-tdt-0.6b-v3", StringComparison.Ordinal));
        sessions[1].Events.Should().StartWith(RealtimeEventTypes.SessionUpdate);
        second.Language.Should().Be("fr");
        service.Model.Should().Be("nvidia/parakeet-tdt-0.6b-v3");
    }

    [Fact]
    public async Task The_end_frame_flushes_the_last_utterance()
    {
        var (emulator, service) = await StartAsync(script: ["unfinished thought"]);
        await using var harness = await FrameProcessorHarness.StartAsync(service, Harness());
        await harness.SendAsync(new UserStartedSpeakingFrame { Timestamp = TimeSpan.FromSeconds(0.2), StartSecs = 0.2 });
        await SendToneAsync(harness, 0.6);

        await harness.EndAsync();

        harness.Downstream.OfType<TranscriptionFrame>().Should().ContainSingle().Which.Text.Should().Be("unfinished thought");
        emulator.RealtimeSessions.Single().Events.Should().Contain(RealtimeEventTypes.Commit);
    }

    [Fact]
    public async Task An_idle_session_is_kept_alive_with_silence()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var (emulator, service) = await StartAsync(options: o => o.KeepAliveInterval = TimeSpan.FromSeconds(60), script: ["before idle", "after idle"]);
        var options = Harness();
        options.TimeProvider = time;
        await using var harness = await FrameProcessorHarness.StartAsync(service, options);
        await SpeakAsync(harness, 0.4, 0);
        await harness.WaitForDownstreamAsync<TranscriptionFrame>(); // connected and idle now
        var before = emulator.RealtimeSessions.Single().Audio.Length;

        time.Advance(TimeSpan.FromSeconds(61)); // the keepalive fires: 100 ms of silence goes out
        await harness.SendAsync(new UserStoppedSpeakingFrame()); // a commit after it, answered once both arrived
        await harness.WaitForDownstreamAsync<TranscriptionFrame>(t => t.Text == "after idle");
        await harness.EndAsync();

        var audio = emulator.RealtimeSessions.Single().Audio;
        (audio.Length - before).Should().Be(3200, "one keepalive of 100 ms at 16 kHz s16le");
        audio[before..].Should().OnlyContain(b => b == 0);
    }

    [Fact]
    public async Task No_key_is_a_fatal_error_before_any_connection()
    {
        var (emulator, service) = await StartAsync(options: o => o.ApiKey = null);
        var result = await FrameProcessorHarness.RunAsync(service, [new InputAudioRawFrame(new byte[640], 16000)], Harness());

        result.UpstreamOf<ErrorFrame>().Should().ContainSingle().Which.Message.Should().Contain("TOGETHER_API_KEY");
        emulator.RealtimeSessions.Should().BeEmpty();
    }

    [Fact]
    public async Task The_key_never_appears_in_logs()
    {
        var (_, service) = await StartAsync(o => o.RealtimeFaults.DropAfterAudioBytes = 4000, script: ["private words"]);
        await using (var harness = await FrameProcessorHarness.StartAsync(service, Harness()))
        {
            await SpeakAsync(harness, 0.5, 0);
            await harness.WaitForDownstreamAsync<TranscriptionFrame>();
            await harness.EndAsync();
        }

        _logs.GetSnapshot().Should().NotBeEmpty();
        AssertNoSecret(Key);
    }

    private void AssertNoSecret(string secret, params ErrorFrame[] errors)
    {
        foreach (var record in _logs.GetSnapshot())
        {
            record.Message.Should().NotContain(secret);
            (record.Exception?.ToString() ?? "").Should().NotContain(secret);
        }
        foreach (var error in errors)
            (error.Message + error.Exception).Should().NotContain(secret);
    }

    public async ValueTask DisposeAsync()
    {
        if (_emulator is not null)
            await _emulator.DisposeAsync();
    }
}
