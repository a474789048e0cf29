using VoicePipeline.Frames;
using VoicePipeline.Metrics;
using VoicePipeline.Testing;
using VoicePipeline.Tests.Shared;

namespace VoicePipeline.Services.Tests;

/// <summary><see cref="RealtimeSttService"/> with an in-memory provider: the protocol, without sockets.</summary>
public class RealtimeSttServiceTests
{
    private static readonly RealtimeSttOptions s_fast = new() { ReconnectBaseDelay = TimeSpan.FromMilliseconds(1), ReconnectMaxDelay = TimeSpan.FromMilliseconds(5), FinalTranscriptTimeout = TimeSpan.FromSeconds(5) };

    private static HarnessOptions Harness() => new() { AudioInSampleRate = 16_000, EnableMetrics = true, EnableUsageMetrics = true };

    /// <summary>A transcript per commit: "turn N" for the Nth commit of the session.</summary>
    private static FakeRealtimeStt Answering(SttSettings? settings = null, string? name = null) => new(settings ?? new SttSettings { Model = "m1" }, s_fast, name)
    {
        Configure = session => session.OnCommit = s => s.Emit(new RealtimeSttEvent(RealtimeSttEventKind.Final, $"turn {s.Commits}")),
    };

    private static short[] Ramp(int count, int offset = 0) => Enumerable.Range(offset, count).Select(i => (short)(i % 30_000)).ToArray();

    private static async Task SendAudioAsync(FrameProcessorHarness harness, short[] samples)
    {
        for (var i = 0; i < samples.Length; i += 320)
            await harness.SendAsync(new InputAudioRawFrame(TestAudio.ToBytes(samples.AsSpan(i, Math.Min(320, samples.Length - i))), 16_000));
    }

    private static async Task<short[]> SpeakAsync(FrameProcessorHarness harness, double at, int samples, int offset = 0)
    {
        var audio = Ramp(samples, offset);
        await harness.SendAsync(new UserStartedSpeakingFrame { Timestamp = TimeSpan.FromSeconds(at + 0.2), StartSecs = 0.2 });
        await SendAudioAsync(harness, audio);
        await harness.SendAsync(new UserStoppedSpeakingFrame { Timestamp = TimeSpan.FromSeconds(at + samples / 16_000.0 + 0.2), StopSecs = 0.2 });
        return audio;
    }

    [Fact]
    public async Task Streams_audio_commits_on_stop_and_reports_the_final_with_its_times_and_metrics()
    {
        var stt = Answering();
        await using var harness = await FrameProcessorHarness.StartAsync(stt, Harness());
        var sent = await SpeakAsync(harness, 0, 8000);

        var final = await harness.WaitForDownstreamAsync<TranscriptionFrame>();
        await harness.EndAsync();

        final.Text.Should().Be("turn 1");
        final.Finalized.Should().BeTrue();
        final.AudioStart.Should().Be(TimeSpan.Zero);
        final.AudioEnd.Should().Be(TimeSpan.FromSeconds(0.5));
        var session = stt.Snapshot().Should().ContainSingle().Subject;
        session.Audio.Should().Equal(sent);
        session.Commits.Should().Be(1);
        var metrics = harness.Downstream.OfType<MetricsFrame>().SelectMany(m => m.Data).ToList();
        metrics.OfType<TtfsMetricsData>().Should().ContainSingle();
        metrics.OfType<UsageMetricsData>().Should().ContainSingle().Which.AudioSeconds.Should().BeApproximately(0.5, 1e-9);
    }

    [Fact]
    public async Task With_an_append_interval_audio_goes_in_gathered_appends_and_a_commit_sends_the_rest_first()
    {
        var audioAtCommit = -1;
        var connected = new TaskCompletionSource<FakeSession>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stt = new FakeRealtimeStt(new SttSettings { Model = "m1" }, new RealtimeSttOptions { AppendInterval = TimeSpan.FromMilliseconds(100), FinalTranscriptTimeout = TimeSpan.FromSeconds(5) })
        {
            Configure = session =>
            {
                session.OnCommit = s =>
                {
                    audioAtCommit = s.Audio.Length;
                    s.Emit(new RealtimeSttEvent(RealtimeSttEventKind.Final, "done"));
                };
                connected.TrySetResult(session);
            },
        };
        await using var harness = await FrameProcessorHarness.StartAsync(stt, Harness());
        // Live before the audio: audio that arrives while connecting goes in the first append, whatever its length.
        await (await connected.Task.WaitAsync(TimeSpan.FromSeconds(10))).Receiving.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var sent = await SpeakAsync(harness, 0, 8320); // 26 frames of 20 ms: five appends of 100 ms and one of 20 ms

        (await harness.WaitForDownstreamAsync<TranscriptionFrame>()).Text.Should().Be("done");
        await harness.EndAsync();

        var session = stt.Snapshot().Should().ContainSingle().Subject;
        session.Audio.Should().Equal(sent);
        audioAtCommit.Should().Be(sent.Length, "the commit came after every sample, the 20 ms not yet gathered included");
        session.AppendLengths.Should().Equal([1600, 1600, 1600, 1600, 1600, 320], "26 frames went out 100 ms at a time, and the commit sent the rest");
    }

    [Fact]
    public void An_append_interval_beyond_a_second_or_a_zero_stall_timeout_is_refused()
    {
        var build = () => new FakeRealtimeStt(new SttSettings { Model = "m1" }, new RealtimeSttOptions { AppendInterval = TimeSpan.FromSeconds(2) });

        build.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("AppendInterval");
        var noStall = () => new FakeRealtimeStt(new SttSettings { Model = "m1" }, new RealtimeSttOptions { StallTimeout = TimeSpan.Zero });
        noStall.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("StallTimeout");
    }

    [Fact]
    public async Task A_session_dropped_mid_utterance_is_replaced_and_the_whole_utterance_replayed()
    {
        var stt = Answering();
        var answer = stt.Configure!;
        var dropped = false;
        stt.Configure = session =>
        {
            answer(session);
            if (!dropped)
            {
                dropped = true;
                session.OnAppend = (s, total) => { if (total >= 6000) s.Drop("the network went away"); };
            }
        };
        await using var harness = await FrameProcessorHarness.StartAsync(stt, Harness());
        var sent = await SpeakAsync(harness, 0, 16_000);

        (await harness.WaitForDownstreamAsync<TranscriptionFrame>()).Text.Should().Be("turn 1");
        await harness.EndAsync();

        var sessions = stt.Snapshot();
        sessions.Should().HaveCount(2);
        sessions[1].Audio.Should().Equal(sent, "the new session received the whole utterance again");
        harness.Upstream.OfType<ErrorFrame>().Should().BeEmpty("a recovered drop is not an error");
    }

    [Fact]
    public async Task Live_settings_go_to_the_session_at_once_and_a_model_change_waits_for_the_end_of_the_turn()
    {
        var stt = Answering(new SttSettings { Model = "m1", Language = "en" }, name: "stt-a");
        var second = new TaskCompletionSource<FakeSession>(TaskCreationOptions.RunContinuationsAsynchronously);
        var answer = stt.Configure!;
        stt.Configure = s => { answer(s); if (stt.Sessions.Count == 1) second.TrySetResult(s); };
        await using var harness = await FrameProcessorHarness.StartAsync(stt, Harness());
        await SpeakAsync(harness, 0, 4000);
        await harness.WaitForDownstreamAsync<TranscriptionFrame>(); // connected

        var elsewhere = new SttUpdateSettingsFrame { Language = "de", TargetName = "stt-b" };
        await harness.SendAsync(elsewhere);
        await harness.WaitForDownstreamAsync<SttUpdateSettingsFrame>(f => f == elsewhere);
        stt.Settings.Language.Should().Be("en", "the update was for another service");

        await harness.SendAsync(new UserStartedSpeakingFrame());
        await harness.WaitForDownstreamAsync<UserStartedSpeakingFrame>(_ => harness.Downstream.OfType<UserStartedSpeakingFrame>().Count() == 2);
        await harness.SendAsync(new SttUpdateSettingsFrame { Language = "fr", Model = "m2", TargetName = "stt-a" });
        await harness.WaitForDownstreamAsync<SttUpdateSettingsFrame>(f => f.Model == "m2");
        var first = stt.Snapshot()[0];
        first.Sent.Should().Contain("update:fr", "the language went live");
        stt.Snapshot().Should().HaveCount(1, "no new session while the user speaks");

        await SendAudioAsync(harness, Ramp(4000));
        await harness.SendAsync(new UserStoppedSpeakingFrame());
        var final = await harness.WaitForDownstreamAsync<TranscriptionFrame>(t => t.Text == "turn 2");
        var renewed = await second.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await harness.EndAsync();

        final.Language.Should().Be("fr");
        renewed.Settings.Should().Be(new SttSettings { Model = "m2", Language = "fr" });
        stt.Settings.Model.Should().Be("m2");
    }

    [Fact]
    public async Task Muted_audio_is_passed_on_but_never_sent()
    {
        var stt = Answering();
        await using var harness = await FrameProcessorHarness.StartAsync(stt, Harness());
        var first = await SpeakAsync(harness, 0, 3200);
        await harness.WaitForDownstreamAsync<TranscriptionFrame>();

        await harness.SendAsync(new SttMuteFrame(true));
        var muted = Enumerable.Repeat((short)-7, 3200).ToArray();
        await SendAudioAsync(harness, muted);
        await harness.SendAsync(new UserStoppedSpeakingFrame()); // ignored while muted: no commit
        await harness.SendAsync(new SttMuteFrame(false));
        var second = await SpeakAsync(harness, 1, 3200, offset: 5000);
        await harness.WaitForDownstreamAsync<TranscriptionFrame>(t => t.Text == "turn 2");
        await harness.EndAsync();

        stt.IsMuted.Should().BeFalse();
        var session = stt.Snapshot().Single();
        session.Audio.Should().Equal(first.Concat(second));
        session.Commits.Should().Be(2);
        harness.Downstream.OfType<InputAudioRawFrame>().Sum(f => f.Audio.Length).Should().Be((3200 * 3) * 2, "muted audio still flows downstream");
    }

    [Fact]
    public async Task Transient_connection_failures_are_retried_and_a_permanent_one_is_one_fatal_error()
    {
        var flaky = Answering();
        flaky.FailConnect = attempt => attempt <= 2 ? new IOException("refused") : null;
        await using (var harness = await FrameProcessorHarness.StartAsync(flaky, Harness()))
        {
            await SpeakAsync(harness, 0, 1600);
            (await harness.WaitForDownstreamAsync<TranscriptionFrame>()).Text.Should().Be("turn 1");
            await harness.EndAsync();
            harness.Upstream.OfType<ErrorFrame>().Should().BeEmpty();
        }

        var refused = Answering();
        var attempts = 0;
        refused.FailConnect = _ => { attempts++; return new UnauthorizedAccessException("wrong key"); };
        await using (var harness = await FrameProcessorHarness.StartAsync(refused, Harness()))
        {
            var error = await harness.WaitForUpstreamAsync<ErrorFrame>();
            await SpeakAsync(harness, 0, 1600);
            await harness.EndAsync();
            error.Fatal.Should().BeTrue();
            error.Category.Should().Be(ErrorCategory.Authentication);
            harness.Upstream.OfType<ErrorFrame>().Should().ContainSingle();
            attempts.Should().Be(1, "a permanent failure is not retried");
        }
    }

    [Theory]
    [InlineData(nameof(RealtimeSttOptions.MaxConnectAttempts))]
    [InlineData(nameof(RealtimeSttOptions.FinalTranscriptTimeout))]
    [InlineData(nameof(RealtimeSttOptions.ReconnectMaxDelay))]
    public void A_setting_out_of_range_is_an_error_naming_it_when_the_service_is_built(string setting)
    {
        var options = new RealtimeSttOptions();
        switch (setting)
        {
            case nameof(RealtimeSttOptions.MaxConnectAttempts): options.MaxConnectAttempts = 0; break;
            case nameof(RealtimeSttOptions.FinalTranscriptTimeout): options.FinalTranscriptTimeout = TimeSpan.Zero; break;
            default: options.ReconnectMaxDelay = TimeSpan.FromMilliseconds(1); break;
        }

        var build = () => new FakeRealtimeStt(new SttSettings(), options);

        build.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(setting);
    }
}
