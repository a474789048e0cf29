using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;
using VoicePipeline.AI.Tests.Support;
using VoicePipeline.Frames;
using VoicePipeline.Pipelines;
using VoicePipeline.Testing;
using static VoicePipeline.AI.Tests.Support.Speech;

namespace VoicePipeline.AI.Tests;

/// <summary>User turns, spoken context and barge-in, with the LLM answered by the emulator over a real socket.</summary>
public sealed class ConversationTests : IAsyncLifetime
{
    private EmulatorChat _chat = null!;
    private readonly FakeTimeProvider _time = new();

    public async Task InitializeAsync() => _chat = await EmulatorChat.StartAsync();

    public async Task DisposeAsync() => await _chat.DisposeAsync();

    private (Pipeline Pipeline, LlmContextAggregatorPair Pair) Agent(LlmContext context, ScriptedOutput? output = null, LlmUserAggregatorOptions? userOptions = null)
    {
        var pair = context.CreateAggregators(userOptions);
        var llm = new ChatClientLlmService(_chat.Client);
        var pipeline = output is null ? new Pipeline(pair.User, llm, pair.Assistant) : new Pipeline(pair.User, llm, output, pair.Assistant);
        return (pipeline, pair);
    }

    private HarnessOptions Options => new() { TimeProvider = _time };

    private static Task WaitForCountAsync<T>(FrameProcessorHarness harness, int count) where T : Frame
        => harness.WaitForDownstreamAsync<T>(_ => harness.Downstream.OfType<T>().Count() >= count);

    private static string[] Texts(LlmContext context) => [.. context.Messages.Select(m => $"{m.Role}: {m.Text}")];

    [Fact]
    public async Task One_llm_request_per_user_turn_with_all_its_finals()
    {
        var context = new LlmContext("Be brief.");
        var (pipeline, _) = Agent(context);
        await using var harness = await FrameProcessorHarness.StartAsync(pipeline, Options);

        await harness.SendAsync(Started());
        await harness.SendAsync(Final("what is", finalized: false)); // the STT cut the speech in two
        await harness.SendAsync(Stopped());
        await harness.SendAsync(Final("the weather"));
        await harness.WaitForDownstreamAsync<LlmFullResponseEndFrame>();

        await harness.SendAsync(Started(3));
        await harness.SendAsync(Stopped(4));
        await harness.SendAsync(Final("thank you"));
        await harness.WaitForDownstreamAsync<LlmFullResponseEndFrame>(f => harness.Downstream.OfType<LlmFullResponseEndFrame>().Count() >= 2);
        await harness.EndAsync();

        _chat.Client.Requests.Should().HaveCount(2, "one request per turn");
        _chat.Client.Requests[0].Select(m => $"{m.Role}: {m.Text}").Should().Equal("system: Be brief.", "user: what is the weather");
        Texts(context).Should().Equal(
            "user: what is the weather", "assistant: You said: what is the weather. (offline emulator)",
            "user: thank you", "assistant: You said: thank you. (offline emulator)");
        harness.Downstream.OfType<TranscriptionFrame>().Should().HaveCount(3, "transcripts pass on for the transports; " + string.Join(", ", harness.Downstream));
    }

    [Fact]
    public async Task A_late_final_transcript_within_the_bound_joins_its_turn_and_the_bound_ends_a_turn_without_one()
    {
        var context = new LlmContext();
        var (pipeline, pair) = Agent(context);
        var turns = new List<UserTurnEventArgs>();
        pair.User.TurnEnded += (_, turn) => turns.Add(turn);
        await using var harness = await FrameProcessorHarness.StartAsync(pipeline, Options);

        await harness.SendAsync(Started(0));
        await harness.SendAsync(Stopped(1.5));
        await harness.WaitForDownstreamAsync<UserStoppedSpeakingFrame>();
        _time.Advance(TimeSpan.FromMilliseconds(900));
        _chat.Client.Requests.Should().BeEmpty("the transcript may still come");
        await harness.SendAsync(Final("late but in time"));
        await harness.WaitForDownstreamAsync<LlmFullResponseEndFrame>();

        // The next speech's final never comes: the bound ends the turn with the text it had. A partial final after the
        // stop (more may follow) does not end the turn before the bound.
        await harness.SendAsync(Started(5));
        await harness.SendAsync(Stopped(6));
        await harness.WaitForDownstreamAsync<UserStoppedSpeakingFrame>(f => f.Timestamp == TimeSpan.FromSeconds(6.8));
        await harness.SendAsync(Final("only part", finalized: false));
        await harness.WaitForDownstreamAsync<TranscriptionFrame>(t => t.Text == "only part");
        _time.Advance(TimeSpan.FromMilliseconds(999));
        _chat.Client.Requests.Should().HaveCount(1);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await harness.WaitForDownstreamAsync<LlmFullResponseEndFrame>(f => harness.Downstream.OfType<LlmFullResponseEndFrame>().Count() >= 2);

        // Speech with no transcript at all gets no reply.
        await harness.SendAsync(Started(9));
        await harness.SendAsync(Stopped(10));
        await harness.WaitForDownstreamAsync<UserStoppedSpeakingFrame>(f => f.Timestamp == TimeSpan.FromSeconds(10.8));
        _time.Advance(TimeSpan.FromSeconds(2));
        await harness.EndAsync();

        _chat.Client.Requests.Should().HaveCount(2);
        turns.Select(t => (t.Text, t.SpeechStart, t.SpeechEnd)).Should().Equal(
            ("late but in time", TimeSpan.FromSeconds(0), TimeSpan.FromSeconds(1.5)),
            ("only part", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(6)));
    }

    [Fact]
    public async Task Transcripts_without_a_vad_end_a_turn_after_the_quiet_time()
    {
        var context = new LlmContext();
        var (pipeline, _) = Agent(context, userOptions: new LlmUserAggregatorOptions { QuietTime = TimeSpan.FromMilliseconds(500) });
        await using var harness = await FrameProcessorHarness.StartAsync(pipeline, Options);

        await harness.SendAsync(Final("hello"));
        await harness.WaitForDownstreamAsync<TranscriptionFrame>();
        _time.Advance(TimeSpan.FromMilliseconds(300));
        await harness.SendAsync(Final("there"));
        await harness.WaitForDownstreamAsync<TranscriptionFrame>(t => t.Text == "there");
        _time.Advance(TimeSpan.FromMilliseconds(499));
        _chat.Client.Requests.Should().BeEmpty();
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await harness.WaitForDownstreamAsync<LlmFullResponseEndFrame>();
        await harness.EndAsync();

        _chat.Client.Requests.Should().ContainSingle().Which.Single().Text.Should().Be("hello there");
    }

    [Fact]
    public async Task An_interruption_leaves_only_the_spoken_words_in_the_context()
    {
        var context = new LlmContext();
        var (pipeline, pair) = Agent(context, new ScriptedOutput(budget: 3));
        var replies = new List<AssistantTurnEventArgs>();
        pair.Assistant.TurnEnded += (_, reply) => replies.Add(reply);
        await using var harness = await FrameProcessorHarness.StartAsync(pipeline, Options);

        await harness.SendAsync(Started());
        await harness.SendAsync(Stopped());
        await harness.SendAsync(Final("tell me a long story"));
        await harness.WaitForDownstreamAsync<TtsTextFrame>(t => harness.Downstream.OfType<TtsTextFrame>().Count() >= 3);
        await harness.WaitForUpstreamAsync<BotStartedSpeakingFrame>();
        pair.User.BotSpeaking.Should().BeTrue();
        await harness.SendAsync(Started(5)); // the user barges in
        await WaitForCountAsync<InterruptionFrame>(harness, 2); // each time the user starts speaking
        await harness.SendAsync(Stopped(6));
        await harness.SendAsync(Final("stop"));
        await harness.WaitForDownstreamAsync<TtsTextFrame>(t => harness.Downstream.OfType<TtsTextFrame>().Count() >= 6);
        await harness.SendAsync(new InterruptionFrame());
        await WaitForCountAsync<InterruptionFrame>(harness, 3);
        await harness.EndAsync();

        Texts(context).Should().Equal(
            "user: tell me a long story", "assistant: You said: tell",
            "user: stop", "assistant: You said: stop.");
        replies.Select(r => (r.Text, r.Interrupted)).Should().Equal(("You said: tell", true), ("You said: stop.", true));
        _chat.Client.Requests[1].Select(m => m.Text).Should().Equal("tell me a long story", "You said: tell", "stop");
    }

    [Fact]
    public async Task Speech_before_the_reply_began_playing_reopens_the_turn_and_its_text_joins_the_next_request()
    {
        var context = new LlmContext();
        var (pipeline, _) = Agent(context, new ScriptedOutput(budget: 0)); // the reply never starts playing
        await using var harness = await FrameProcessorHarness.StartAsync(pipeline, Options);

        await harness.SendAsync(Started(0));
        await harness.SendAsync(Stopped(1));
        await harness.SendAsync(Final("what time"));
        await harness.WaitForDownstreamAsync<LlmFullResponseStartFrame>();
        await harness.SendAsync(Started(2)); // a pause, then more of the same sentence
        await WaitForCountAsync<InterruptionFrame>(harness, 2);
        context.Messages.Should().BeEmpty("the turn is open again");
        await harness.SendAsync(Stopped(3));
        await harness.SendAsync(Final("is it"));
        await harness.WaitForDownstreamAsync<LlmFullResponseStartFrame>(f => harness.Downstream.OfType<LlmFullResponseStartFrame>().Count() >= 2);
        await harness.EndAsync();

        _chat.Client.Requests.Should().HaveCount(2);
        _chat.Client.Requests[1].Select(m => $"{m.Role}: {m.Text}").Should().Equal("user: what time is it");
        Texts(context).Should().Equal("user: what time is it");
    }

    [Fact]
    public async Task With_a_min_words_strategy_a_short_backchannel_does_not_interrupt_the_bot_but_a_sentence_does()
    {
        var context = new LlmContext();
        var options = new LlmUserAggregatorOptions { InterruptionStrategies = { new MinWordsInterruptionStrategy(3) } };
        var (pipeline, pair) = Agent(context, new ScriptedOutput(budget: 2), options);
        await using var harness = await FrameProcessorHarness.StartAsync(pipeline, Options);

        await harness.SendAsync(Started(0));
        await harness.SendAsync(Stopped(1));
        await harness.SendAsync(Final("tell me a story"));
        await harness.WaitForDownstreamAsync<TtsTextFrame>(t => harness.Downstream.OfType<TtsTextFrame>().Count() >= 2);
        await harness.WaitForUpstreamAsync<BotStartedSpeakingFrame>();

        await harness.SendAsync(Started(3));
        await harness.SendAsync(Stopped(4));
        await harness.SendAsync(Final("uh huh"));
        await harness.WaitForDownstreamAsync<TranscriptionFrame>(t => t.Text == "uh huh");
        harness.Downstream.OfType<InterruptionFrame>().Should().HaveCount(1, "only the first turn's start interrupted; two words are not enough while the bot speaks");
        pair.User.BotSpeaking.Should().BeTrue();

        await harness.SendAsync(Started(6));
        await harness.SendAsync(Final("no wait stop", finalized: false));
        await WaitForCountAsync<InterruptionFrame>(harness, 2);
        await harness.SendAsync(Stopped(7));
        await harness.SendAsync(Final("please"));
        await harness.WaitForDownstreamAsync<LlmFullResponseStartFrame>(f => harness.Downstream.OfType<LlmFullResponseStartFrame>().Count() >= 2);
        await harness.EndAsync();

        _chat.Client.Requests.Should().HaveCount(2);
        _chat.Client.Requests[1].Select(m => m.Text).Should().Equal("tell me a story", "You said:", "no wait stop please");
    }
}
