using Microsoft.Extensions.Time.Testing;
using VoicePipeline.Frames;
using VoicePipeline.Testing;
using static VoicePipeline.AI.Tests.Support.Speech;

namespace VoicePipeline.AI.Tests;

/// <summary>The idle watch and the STT mute strategies.</summary>
public sealed class TurnTakingTests
{
    private static InputAudioRawFrame Audio() => new(new byte[320], 16_000, 1);

    [Fact]
    public async Task The_idle_callback_runs_after_the_silence_with_a_retry_count_and_pauses_while_the_bot_speaks()
    {
        var time = new FakeTimeProvider();
        var calls = new List<int>();
        var idle = new UserIdleProcessor(async (processor, retry, ct) =>
        {
            calls.Add(retry);
            await processor.PushAsync(new TtsSpeakFrame($"Are you still there? ({retry})"), FrameDirection.Downstream, ct);
            return retry < 2;
        }, TimeSpan.FromSeconds(5));
        await using var harness = await FrameProcessorHarness.StartAsync(idle, new HarnessOptions { TimeProvider = time });

        time.Advance(TimeSpan.FromSeconds(30));
        calls.Should().BeEmpty("the conversation has not started");

        await harness.SendAsync(Started());
        await harness.SendAsync(Stopped());
        await harness.WaitForDownstreamAsync<UserStoppedSpeakingFrame>();
        time.Advance(TimeSpan.FromMilliseconds(4999));
        calls.Should().BeEmpty();
        time.Advance(TimeSpan.FromMilliseconds(1));
        await harness.WaitForDownstreamAsync<TtsSpeakFrame>();
        calls.Should().Equal(1);

        await harness.SendAsync(new BotStartedSpeakingFrame(), FrameDirection.Upstream);
        await harness.WaitForUpstreamAsync<BotStartedSpeakingFrame>();
        time.Advance(TimeSpan.FromSeconds(20));
        calls.Should().Equal([1], "no idle while the bot speaks");
        await harness.SendAsync(new BotStoppedSpeakingFrame(), FrameDirection.Upstream);
        await harness.WaitForUpstreamAsync<BotStoppedSpeakingFrame>();
        time.Advance(TimeSpan.FromSeconds(5));
        await harness.WaitForDownstreamAsync<TtsSpeakFrame>(f => f.Text.EndsWith("(2)", StringComparison.Ordinal));
        time.Advance(TimeSpan.FromSeconds(60));
        calls.Should().Equal([1, 2], "the callback said to stop watching");

        await harness.SendAsync(Started(100)); // the user is back: the count starts again
        await harness.SendAsync(Stopped(101));
        await harness.WaitForDownstreamAsync<UserStoppedSpeakingFrame>(f => f.Timestamp == TimeSpan.FromSeconds(101.8));
        idle.RetryCount.Should().Be(0);
        time.Advance(TimeSpan.FromSeconds(5));
        await harness.WaitForDownstreamAsync<TtsSpeakFrame>(f => harness.Downstream.OfType<TtsSpeakFrame>().Count() >= 3);
        await harness.EndAsync();
        calls.Should().Equal(1, 2, 1);
    }

    private static async Task<(FrameProcessorHarness Harness, SttMuteFilter Filter)> StartFilterAsync(SttMuteStrategies strategies)
    {
        var filter = new SttMuteFilter(strategies);
        return (await FrameProcessorHarness.StartAsync(filter), filter);
    }

    /// <summary>Sends a frame upstream (as the output transport or the LLM would) and waits until the filter passed it.</summary>
    private static async Task FromBelowAsync<T>(FrameProcessorHarness harness, T frame) where T : Frame
    {
        await harness.SendAsync(frame, FrameDirection.Upstream);
        await harness.WaitForUpstreamAsync<T>(f => ReferenceEquals(f, frame));
    }

    /// <summary>Sends user speech and a transcript, then a marker, and returns how much of the speech passed.</summary>
    private static async Task<int> SpeakAsync(FrameProcessorHarness harness)
    {
        var before = harness.Downstream.Count(f => f is InputAudioRawFrame or UserStartedSpeakingFrame or TranscriptionFrame);
        await harness.SendAsync(Started());
        await harness.SendAsync(Audio());
        await harness.SendAsync(Final("hello"));
        var marker = new TextFrame("marker");
        await harness.SendAsync(marker);
        await harness.WaitForDownstreamAsync<TextFrame>(f => ReferenceEquals(f, marker));
        return harness.Downstream.Count(f => f is InputAudioRawFrame or UserStartedSpeakingFrame or TranscriptionFrame) - before;
    }

    [Fact]
    public async Task Until_first_bot_complete_mutes_from_the_start_until_the_first_speech_ended()
    {
        var (harness, filter) = await StartFilterAsync(SttMuteStrategies.UntilFirstBotComplete);
        await using var _ = harness;

        (await SpeakAsync(harness)).Should().Be(0);
        await FromBelowAsync(harness, new BotStartedSpeakingFrame());
        (await SpeakAsync(harness)).Should().Be(0);
        await FromBelowAsync(harness, new BotStoppedSpeakingFrame());
        filter.IsMuted.Should().BeFalse();
        (await SpeakAsync(harness)).Should().Be(3);
        await FromBelowAsync(harness, new BotStartedSpeakingFrame());
        (await SpeakAsync(harness)).Should().Be(3, "only the first speech");
    }

    [Fact]
    public async Task First_speech_mutes_only_while_the_bot_speaks_for_the_first_time()
    {
        var (harness, _) = await StartFilterAsync(SttMuteStrategies.FirstSpeech);
        await using var __ = harness;

        (await SpeakAsync(harness)).Should().Be(3);
        await FromBelowAsync(harness, new BotStartedSpeakingFrame());
        (await SpeakAsync(harness)).Should().Be(0);
        await FromBelowAsync(harness, new BotStoppedSpeakingFrame());
        await FromBelowAsync(harness, new BotStartedSpeakingFrame());
        (await SpeakAsync(harness)).Should().Be(3);
    }

    [Fact]
    public async Task Always_mutes_whenever_the_bot_speaks()
    {
        var (harness, _) = await StartFilterAsync(SttMuteStrategies.Always);
        await using var __ = harness;

        for (var i = 0; i < 2; i++)
        {
            await FromBelowAsync(harness, new BotStartedSpeakingFrame());
            (await SpeakAsync(harness)).Should().Be(0);
            await FromBelowAsync(harness, new BotStoppedSpeakingFrame());
            (await SpeakAsync(harness)).Should().Be(3);
        }
        harness.Downstream.OfType<InterruptionFrame>().Should().BeEmpty();
    }

    [Fact]
    public async Task Function_call_mutes_while_a_call_runs()
    {
        var (harness, filter) = await StartFilterAsync(SttMuteStrategies.FunctionCall);
        await using var __ = harness;
        var arguments = new Dictionary<string, object?>();

        (await SpeakAsync(harness)).Should().Be(3);
        await FromBelowAsync(harness, new FunctionCallInProgressFrame("c1", "search", arguments));
        await FromBelowAsync(harness, new FunctionCallInProgressFrame("c2", "book", arguments));
        (await SpeakAsync(harness)).Should().Be(0);
        await FromBelowAsync(harness, new FunctionCallResultFrame("c1", "search", arguments, "done"));
        filter.IsMuted.Should().BeTrue("one call still runs");
        await FromBelowAsync(harness, new FunctionCallResultFrame("c2", "book", arguments, "done"));
        (await SpeakAsync(harness)).Should().Be(3);
    }
}
