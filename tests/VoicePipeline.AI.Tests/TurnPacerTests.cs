using Microsoft.Extensions.Time.Testing;
using VoicePipeline.AI.Tests.Support;
using VoicePipeline.Frames;
using VoicePipeline.Pipelines;
using VoicePipeline.Processors;
using VoicePipeline.Testing;
using static VoicePipeline.AI.Tests.Support.Speech;

namespace VoicePipeline.AI.Tests;

/// <summary>An input faster than real time, paced by the conversation, with the LLM answered by the emulator over a real socket.</summary>
public sealed class TurnPacerTests : IAsyncLifetime
{
    private EmulatorChat _chat = null!;
    private readonly FakeTimeProvider _time = new();

    public async Task InitializeAsync() => _chat = await EmulatorChat.StartAsync();

    public async Task DisposeAsync() => await _chat.DisposeAsync();

    private static InputAudioRawFrame Audio(double at) => new(new byte[640], 16_000) { PresentationTimestamp = TimeSpan.FromSeconds(at) };

    [Fact]
    public async Task Speech_sent_all_at_once_is_answered_turn_by_turn_with_the_input_held_until_each_reply_is_over()
    {
        var context = new LlmContext("Be brief.");
        var pair = context.CreateAggregators();
        var replies = new List<AssistantTurnEventArgs>();
        pair.Assistant.TurnEnded += (_, turn) => { lock (replies) replies.Add(turn); };
        var pipeline = new Pipeline(pair.CreateTurnPacer(), new ScriptedStt("what is the weather", "thank you"), pair.User,
            new ChatClientLlmService(_chat.Client), new ScriptedOutput(budget: 100), pair.Assistant);
        await using var harness = await FrameProcessorHarness.StartAsync(pipeline, new HarnessOptions { TimeProvider = _time });

        // The whole input at once, as a file played fast: two utterances, each followed by more audio.
        var afterFirst = Audio(2);
        var afterSecond = Audio(5);
        foreach (var frame in new Frame[] { Started(0), Audio(1), Stopped(1), afterFirst, Audio(3), Started(3), Audio(4), Stopped(4), afterSecond })
            await harness.SendAsync(frame);
        await harness.WaitForDownstreamAsync<InputAudioRawFrame>(f => ReferenceEquals(f, afterSecond));
        await harness.EndAsync();

        _chat.Client.Requests.Should().HaveCount(2, "one request per turn, none merged");
        context.Messages.Select(m => $"{m.Role}: {m.Text}").Should().Equal(
            "user: what is the weather", "assistant: You said: what is the weather. (offline emulator)",
            "user: thank you", "assistant: You said: thank you. (offline emulator)");
        replies.Should().HaveCount(2).And.OnlyContain(r => !r.Interrupted, "no reply was cut by the next speech");
        var downstream = harness.Downstream.ToList();
        var ends = downstream.Select((f, i) => (f, i)).Where(x => x.f is LlmFullResponseEndFrame).Select(x => x.i).ToList();
        ends.Should().HaveCount(2);
        downstream.IndexOf(afterFirst).Should().BeGreaterThan(ends[0], "the audio after the first stop waited for the first reply");
        downstream.IndexOf(afterSecond).Should().BeGreaterThan(ends[1], "the audio after the second stop waited for the second reply");
    }

    [Fact]
    public async Task A_turn_that_never_settles_releases_the_input_after_the_bound()
    {
        var context = new LlmContext();
        var pair = context.CreateAggregators(new LlmUserAggregatorOptions { TranscriptTimeout = TimeSpan.FromMinutes(10) });
        // No STT: the turn never gets a transcript, and its bound is far away; the pacer's own bound lets the input go on.
        var pipeline = new Pipeline(pair.CreateTurnPacer(new TurnPacerOptions { MaxHold = TimeSpan.FromSeconds(30) }), pair.User, pair.Assistant);
        await using var harness = await FrameProcessorHarness.StartAsync(pipeline, new HarnessOptions { TimeProvider = _time });

        var after = Audio(2);
        foreach (var frame in new Frame[] { Started(0), Stopped(1), after })
            await harness.SendAsync(frame);
        await harness.WaitForDownstreamAsync<UserStoppedSpeakingFrame>();
        _time.Advance(TimeSpan.FromSeconds(29));
        harness.Downstream.Should().NotContain(after, "the input is held while the turn is open");

        _time.Advance(TimeSpan.FromSeconds(1));
        await harness.WaitForDownstreamAsync<InputAudioRawFrame>(f => ReferenceEquals(f, after));
        await harness.EndAsync();
    }

    /// <summary>An STT that answers each end of speech with the next scripted final transcript.</summary>
    private sealed class ScriptedStt(params string[] finals) : FrameProcessor
    {
        private int _next;

        protected override async ValueTask ProcessSystemFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
        {
            await PushFrameAsync(frame, direction, cancellationToken);
            if (frame is UserStoppedSpeakingFrame && direction == FrameDirection.Downstream && _next < finals.Length)
                await PushFrameAsync(Final(finals[_next++]), FrameDirection.Downstream, cancellationToken);
        }
    }
}
