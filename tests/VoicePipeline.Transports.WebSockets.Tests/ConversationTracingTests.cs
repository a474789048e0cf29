using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using VoicePipeline.Metrics;
using VoicePipeline.Tests.Shared;

namespace VoicePipeline.Transports.WebSockets.Tests;

/// <summary>The listener makes every task in the process trace: these tests run alone, never beside fake-clock tests.</summary>
[CollectionDefinition(nameof(ConversationTracingTests), DisableParallelization = true)]
public sealed class ConversationTracingTestsCollection;

/// <summary>
/// The spans of a real session (the voice agent on the emulator, a recording sent over the raw wire), seen by an
/// in-process <see cref="ActivityListener"/> as OpenTelemetry's tracer would see them.
/// </summary>
[Collection(nameof(ConversationTracingTests))]
public sealed class ConversationTracingTests : IDisposable
{
    private static readonly TimeSpan s_guard = TimeSpan.FromSeconds(120);
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;
    private readonly string _conversationId = Guid.NewGuid().ToString("N");
    private readonly TaskCompletionSource<Activity> _conversation = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ConversationTracingTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == VoicePipelineTelemetry.ActivitySourceName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                _stopped.Enqueue(activity);
                if (activity.OperationName == "conversation" && (string?)activity.GetTagItem("conversation.id") == _conversationId)
                    _conversation.TrySetResult(activity);
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    [Fact]
    public async Task A_session_makes_a_conversation_span_with_a_turn_and_its_stt_llm_and_tts_spans()
    {
        await using var agent = await EmulatedVoiceAgent.StartAsync();
        await using var server = await VoiceWebSocketServer.StartAsync(
            session => agent.RunAsync(session, configure: o =>
            {
                o.ConversationId = _conversationId;
                o.EnableMetrics = o.EnableUsageMetrics = true;
            }),
            new WebSocketServerOptions { Port = 0, InputRateWindow = TimeSpan.FromMinutes(1) }); // the recording is sent at once
        var recording = Directory.GetFiles(TestAudio.LibriVoxDirectory, "*.wav").Order().ElementAt(1);
        var bytes = TestAudio.ToBytes(TestAudio.Concat(TestAudio.Silence(0.5), TestAudio.Decode(recording, 16000), TestAudio.Silence(1.5)));

        using var client = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(s_guard);
        await client.ConnectAsync(server.SocketUrl, timeout.Token);
        for (var offset = 0; offset < bytes.Length; offset += 640)
            await client.SendAsync(bytes.AsMemory(offset, Math.Min(640, bytes.Length - offset)), WebSocketMessageType.Binary, true, timeout.Token);
        // The bot's first audio means a whole turn went through STT, the LLM and TTS; closing then ends the session.
        var buffer = new byte[64 * 1024];
        while ((await client.ReceiveAsync(buffer, timeout.Token)).MessageType != WebSocketMessageType.Binary)
        {
        }
        await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        while ((await client.ReceiveAsync(buffer, timeout.Token)).MessageType != WebSocketMessageType.Close)
        {
        }
        var conversation = await _conversation.Task.WaitAsync(timeout.Token);

        var spans = _stopped.Where(a => a.TraceId == conversation.TraceId).ToList();
        conversation.Parent.Should().BeNull("no ambient span: the conversation is the trace's root");
        conversation.GetTagItem("conversation.type").Should().Be("voice");
        var turn = spans.Should().ContainSingle(a => a.OperationName == "turn" && a.ParentSpanId == conversation.SpanId).Subject;
        turn.GetTagItem("turn.number").Should().Be(1);
        turn.GetTagItem("conversation.id").Should().Be(_conversationId);
        turn.StartTimeUtc.Should().BeOnOrAfter(conversation.StartTimeUtc);
        (turn.StartTimeUtc + turn.Duration).Should().BeOnOrBefore(conversation.StartTimeUtc + conversation.Duration);

        var stt = spans.Should().Contain(a => a.OperationName == "stt" && a.ParentSpanId == turn.SpanId).Which;
        stt.GetTagItem("gen_ai.operation.name").Should().Be("stt");
        stt.GetTagItem("gen_ai.system").Should().Be("TogetherSttService");
        ((string?)stt.GetTagItem("gen_ai.request.model")).Should().NotBeNullOrEmpty();
        ((string?)stt.GetTagItem("transcript")).Should().Contain("young man");
        stt.GetTagItem("is_final").Should().Be(true);
        ((double?)stt.GetTagItem("metrics.ttfs")).Should().BePositive("the time from the end of speech to the final transcript");

        var llm = spans.Should().ContainSingle(a => a.OperationName == "llm" && a.ParentSpanId == turn.SpanId).Subject;
        llm.GetTagItem("gen_ai.operation.name").Should().Be("chat");
        ((string?)llm.GetTagItem("gen_ai.request.model")).Should().NotBeNullOrEmpty();
        ((string?)llm.GetTagItem("output")).Should().NotBeNullOrWhiteSpace();
        ((double?)llm.GetTagItem("metrics.ttfb")).Should().BePositive();
        ((int?)llm.GetTagItem("gen_ai.usage.input_tokens")).Should().BePositive();
        ((int?)llm.GetTagItem("gen_ai.usage.output_tokens")).Should().BePositive();
        llm.StartTimeUtc.Should().BeOnOrAfter(stt.StartTimeUtc + stt.Duration, "the LLM runs on the final transcript");

        var tts = spans.Should().Contain(a => a.OperationName == "tts" && a.ParentSpanId == turn.SpanId).Which;
        tts.GetTagItem("gen_ai.system").Should().Be("TogetherTtsService");
        ((double?)tts.GetTagItem("metrics.ttfb")).Should().BePositive();
        var text = (string?)tts.GetTagItem("text");
        text.Should().NotBeNullOrWhiteSpace();
        ((int?)tts.GetTagItem("metrics.character_count")).Should().BePositive();
        tts.StartTimeUtc.Should().BeOnOrAfter(llm.StartTimeUtc);
        spans.Should().OnlyContain(a => a.Duration >= TimeSpan.Zero);
    }

    public void Dispose() => _listener.Dispose();
}
