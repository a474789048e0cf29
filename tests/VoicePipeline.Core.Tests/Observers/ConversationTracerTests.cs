using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using VoicePipeline.Frames;
using VoicePipeline.Metrics;
using VoicePipeline.Observers;
using VoicePipeline.Pipelines;
using VoicePipeline.Processors;

namespace VoicePipeline.Core.Tests.Observers;

/// <summary>The listener makes every task in the process trace: these tests run alone, never beside fake-clock tests.</summary>
[CollectionDefinition(nameof(ConversationTracerTests), DisableParallelization = true)]
public sealed class ConversationTracerTestsCollection;

/// <summary>
/// The conversation tracer on a scripted conversation: turns, barge-in, the service spans with the times of the pushes
/// and the attributes of the metrics frames, each frame counted once however many links it crosses.
/// </summary>
[Collection(nameof(ConversationTracerTests))]
public sealed class ConversationTracerTests : IDisposable
{
    private static readonly DateTimeOffset s_start = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public ConversationTracerTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == VoicePipelineTelemetry.ActivitySourceName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    [Fact]
    public async Task A_conversation_with_a_barge_in_makes_two_turns_with_their_service_spans_at_the_push_times()
    {
        var time = new FakeTimeProvider(s_start);
        var id = Guid.NewGuid().ToString("N");
        var tracer = new ConversationTracer(time, id, default);
        var (vad, stt, llm, tts, output) = (new Named("vad"), new Named("stt"), new Named("llm"), new Named("tts"), new Named("output"));
        var userStarted = new UserStartedSpeakingFrame();

        await PushAsync(tracer, vad, userStarted, 1.0);
        await PushAsync(tracer, stt, userStarted, 1.0); // forwarded: the same frame, one turn
        await PushAsync(tracer, stt, new MetricsFrame(new TtfbMetricsData(stt.Name, TimeSpan.FromSeconds(0.3), "whisper")), 1.5); // before the span knows its service
        await PushAsync(tracer, vad, new UserStoppedSpeakingFrame(), 3.0);
        await PushAsync(tracer, stt, new TranscriptionFrame("hello", "user", s_start, "en", finalized: true), 3.5);
        await PushAsync(tracer, stt, new MetricsFrame(new TtfsMetricsData(stt.Name, TimeSpan.FromSeconds(0.5), "whisper")), 3.5);
        await PushAsync(tracer, llm, new LlmFullResponseStartFrame(), 3.6);
        await PushAsync(tracer, llm, new MetricsFrame(new TtfbMetricsData(llm.Name, TimeSpan.FromSeconds(0.2), "chat-model")), 3.8);
        await PushAsync(tracer, llm, new TextFrame("Hi "), 3.8);
        await PushAsync(tracer, tts, new TextFrame("Hi "), 3.8); // the TTS forwarding the LLM's text is not the LLM's output
        await PushAsync(tracer, llm, new TextFrame("there"), 3.9);
        await PushAsync(tracer, tts, new TtsStartedFrame(), 3.9);
        await PushAsync(tracer, llm, new LlmFullResponseEndFrame(), 4.0);
        await PushAsync(tracer, llm, new MetricsFrame(new UsageMetricsData(llm.Name, "chat-model") { PromptTokens = 10, CompletionTokens = 2 }), 4.0);
        await PushAsync(tracer, output, new BotStartedSpeakingFrame(), 4.2);
        await PushAsync(tracer, tts, new TtsTextFrame("Hi there"), 4.5);
        await PushAsync(tracer, tts, new MetricsFrame(new UsageMetricsData(tts.Name, "voice-model") { Characters = 8 }), 4.5);
        await PushAsync(tracer, tts, new TtsStoppedFrame { IsComplete = true }, 4.6);
        await PushAsync(tracer, vad, new UserStartedSpeakingFrame(), 5.0); // over the bot: barge-in
        await PushAsync(tracer, output, new BotStoppedSpeakingFrame(), 5.1);
        await PushAsync(tracer, vad, new UserStoppedSpeakingFrame(), 6.0);
        await PushAsync(tracer, stt, new TranscriptionFrame("stop", "user", s_start, "en", finalized: true), 6.5);
        time.SetUtcNow(s_start + TimeSpan.FromSeconds(7));
        tracer.Complete("ended");

        var spans = _stopped.ToList();
        var conversation = spans.Should().ContainSingle(a => a.OperationName == "conversation" && (string?)a.GetTagItem("conversation.id") == id).Subject;
        spans = spans.Where(a => a.TraceId == conversation.TraceId).ToList();
        conversation.StartTimeUtc.Should().Be(s_start.UtcDateTime);
        conversation.Duration.Should().Be(TimeSpan.FromSeconds(7));
        conversation.GetTagItem("conversation.outcome").Should().Be("ended");
        conversation.GetTagItem("conversation.turns").Should().Be(2);

        var turns = spans.Where(a => a.OperationName == "turn").OrderBy(a => a.StartTimeUtc).ToList();
        turns.Should().HaveCount(2);
        turns.Should().OnlyContain(t => t.ParentSpanId == conversation.SpanId);
        Span(turns[0]).Should().Be((1.0, 5.0));
        turns[0].GetTagItem("turn.number").Should().Be(1);
        turns[0].GetTagItem("turn.was_interrupted").Should().Be(true, "the user spoke over the bot");
        Span(turns[1]).Should().Be((5.0, 7.0));
        turns[1].GetTagItem("turn.was_interrupted").Should().Be(false);

        var first = spans.Where(a => a.ParentSpanId == turns[0].SpanId).ToDictionary(a => a.OperationName);
        first.Keys.Should().BeEquivalentTo(["stt", "llm", "tts"]);
        Span(first["stt"]).Should().Be((3.0, 3.5), "from the end of speech to the final transcript");
        first["stt"].GetTagItem("gen_ai.system").Should().Be(nameof(Named));
        first["stt"].GetTagItem("gen_ai.request.model").Should().Be("whisper");
        first["stt"].GetTagItem("transcript").Should().Be("hello");
        first["stt"].GetTagItem("language").Should().Be("en");
        first["stt"].GetTagItem("metrics.ttfb").Should().Be(0.3, "reported while the user spoke, before the span knew its service");
        first["stt"].GetTagItem("metrics.ttfs").Should().Be(0.5);
        Span(first["llm"]).Should().Be((3.6, 4.0));
        first["llm"].GetTagItem("gen_ai.operation.name").Should().Be("chat");
        first["llm"].GetTagItem("gen_ai.request.model").Should().Be("chat-model");
        first["llm"].GetTagItem("output").Should().Be("Hi there");
        first["llm"].GetTagItem("metrics.ttfb").Should().Be(0.2);
        first["llm"].GetTagItem("gen_ai.usage.input_tokens").Should().Be(10, "usage arrives after the response ended, before the span is exported");
        first["llm"].GetTagItem("gen_ai.usage.output_tokens").Should().Be(2);
        Span(first["tts"]).Should().Be((3.9, 4.6));
        first["tts"].GetTagItem("text").Should().Be("Hi there");
        first["tts"].GetTagItem("metrics.character_count").Should().Be(8);
        first["tts"].GetTagItem("tts.complete").Should().Be(true);

        var second = spans.Where(a => a.ParentSpanId == turns[1].SpanId).ToList();
        Span(second.Should().ContainSingle(a => a.OperationName == "stt").Subject).Should().Be((6.0, 6.5));
    }

    [Fact]
    public async Task The_last_turn_ends_when_the_bots_reply_ended_not_when_the_session_did()
    {
        var time = new FakeTimeProvider(s_start);
        var id = Guid.NewGuid().ToString("N");
        var tracer = new ConversationTracer(time, id, default);
        var (vad, output) = (new Named("vad"), new Named("output"));

        await PushAsync(tracer, vad, new UserStartedSpeakingFrame(), 1.0);
        await PushAsync(tracer, output, new BotStartedSpeakingFrame(), 2.0);
        await PushAsync(tracer, output, new BotStoppedSpeakingFrame(), 4.0);
        time.SetUtcNow(s_start + TimeSpan.FromSeconds(30));
        tracer.Complete("ended");

        var conversation = _stopped.Single(a => a.OperationName == "conversation" && (string?)a.GetTagItem("conversation.id") == id);
        var turn = _stopped.Single(a => a.OperationName == "turn" && a.ParentSpanId == conversation.SpanId);
        Span(turn).Should().Be((1.0, 4.0));
        Span(conversation).Should().Be((0.0, 30.0));
    }

    [Fact]
    public async Task A_task_makes_a_conversation_span_unless_tracing_is_off()
    {
        var traced = Guid.NewGuid().ToString("N");
        var untraced = Guid.NewGuid().ToString("N");

        foreach (var (id, enabled) in new[] { (traced, true), (untraced, false) })
        {
            var task = new PipelineTask(new Pipeline(new TagProcessor("a")), new PipelineTaskOptions { ConversationId = id, EnableTracing = enabled });
            await task.StopWhenDoneAsync();
            (await task.RunAsync().WaitAsync(TimeSpan.FromSeconds(20))).Should().Be(PipelineCompletion.Ended);
        }

        var conversations = _stopped.Where(a => a.OperationName == "conversation").Select(a => (string?)a.GetTagItem("conversation.id")).ToList();
        conversations.Should().Contain(traced).And.NotContain(untraced);
        _stopped.Single(a => (string?)a.GetTagItem("conversation.id") == traced).GetTagItem("conversation.outcome").Should().Be("ended");
    }

    public void Dispose() => _listener.Dispose();

    private static (double Start, double End) Span(Activity activity)
        => (Math.Round((activity.StartTimeUtc - s_start.UtcDateTime).TotalSeconds, 3), Math.Round((activity.StartTimeUtc + activity.Duration - s_start.UtcDateTime).TotalSeconds, 3));

    private static ValueTask PushAsync(ConversationTracer tracer, FrameProcessor source, Frame frame, double seconds)
        => tracer.OnFramePushedAsync(new FramePushed(source, null, frame, FrameDirection.Downstream, TimeSpan.FromSeconds(seconds)));

    private sealed class Named(string name) : FrameProcessor(name);
}
