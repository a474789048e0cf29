using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using VoicePipeline.Frames;
using VoicePipeline.Metrics;
using VoicePipeline.Testing;

namespace VoicePipeline.AI.Tests;

public class ChatClientLlmServiceTests
{
    private static TranscriptionFrame Final(string text) => new(text, "user", DateTimeOffset.UtcNow, "en", finalized: true);

    [Fact]
    public async Task A_final_transcript_is_answered_as_a_stream_of_text_frames()
    {
        var client = new FakeChatClient { Answer = (_, _) => Tokens("Hello", " there", "!") };
        var service = new ChatClientLlmService(client, new ChatClientLlmServiceOptions { SystemPrompt = "Be brief.", ModelId = "m" });

        var result = await FrameProcessorHarness.RunAsync(service, [Final("hi"), new InterimTranscriptionFrame("ignored", "user", DateTimeOffset.UtcNow)]);

        result.Downstream.Select(f => f.GetType().Name).Should().ContainInOrder(
            nameof(TranscriptionFrame), nameof(LlmFullResponseStartFrame), nameof(TextFrame), nameof(TextFrame), nameof(TextFrame), nameof(LlmFullResponseEndFrame));
        string.Concat(result.DownstreamOf<TextFrame>().Where(t => t is not TranscriptionFrame and not InterimTranscriptionFrame).Select(t => t.Text)).Should().Be("Hello there!");
        client.LastMessages!.Select(m => (m.Role, m.Text)).Should().Equal((ChatRole.System, "Be brief."), (ChatRole.User, "hi"));
        client.LastOptions!.ModelId.Should().Be("m");
        service.History.Select(m => m.Text).Should().Equal("hi", "Hello there!");
    }

    [Fact]
    public async Task Interruption_cancels_the_stream_and_keeps_what_was_said()
    {
        var released = new TaskCompletionSource();
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var client = new FakeChatClient { Answer = (_, ct) => Stalling(released, cancelled, ct) };
        var service = new ChatClientLlmService(client);
        await using var harness = await FrameProcessorHarness.StartAsync(service);

        await harness.SendAsync(Final("tell me a story"));
        await harness.WaitForDownstreamAsync<TextFrame>(t => t.Text == "Once");
        await harness.SendAsync(new InterruptionFrame());

        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await harness.WaitForDownstreamAsync<InterruptionFrame>();
        await harness.EndAsync();
        harness.Downstream.OfType<LlmFullResponseEndFrame>().Should().BeEmpty("the answer was cut off");
        service.History.Select(m => m.Text).Should().Equal("tell me a story", "Once");
    }

    [Fact]
    public async Task Settings_update_changes_the_next_request()
    {
        var client = new FakeChatClient { Answer = (_, _) => Tokens("ok") };
        var service = new ChatClientLlmService(client, new ChatClientLlmServiceOptions { ModelId = "old" });

        await FrameProcessorHarness.RunAsync(service, [new LlmUpdateSettingsFrame { Model = "new", Temperature = 0.2, MaxTokens = 50 }, Final("hi")]);

        client.LastOptions!.ModelId.Should().Be("new");
        client.LastOptions.Temperature.Should().BeApproximately(0.2f, 1e-6f);
        client.LastOptions.MaxOutputTokens.Should().Be(50);
    }

    [Fact]
    public async Task A_failing_client_becomes_an_error_frame_and_the_service_goes_on()
    {
        var calls = 0;
        var client = new FakeChatClient { Answer = (_, _) => ++calls == 1 ? Failing() : Tokens("second") };
        var service = new ChatClientLlmService(client);

        var result = await FrameProcessorHarness.RunAsync(service, [Final("one"), Final("two")]);

        result.UpstreamOf<ErrorFrame>().Should().ContainSingle().Which.Message.Should().Contain("model overloaded");
        result.DownstreamOf<TextFrame>().Should().Contain(t => t.Text == "second");
    }

    [Fact]
    public async Task Usage_and_ttfb_are_reported()
    {
        var client = new FakeChatClient { Answer = (_, _) => WithUsage() };
        var result = await FrameProcessorHarness.RunAsync(new ChatClientLlmService(client), [Final("hi")], new HarnessOptions { EnableMetrics = true, EnableUsageMetrics = true });

        var data = result.DownstreamOf<MetricsFrame>().SelectMany(m => m.Data).ToList();
        data.OfType<TtfbMetricsData>().Should().ContainSingle();
        data.OfType<UsageMetricsData>().Should().ContainSingle().Which.CompletionTokens.Should().Be(7);
    }

    private static async IAsyncEnumerable<ChatResponseUpdate> Tokens(params string[] tokens)
    {
        foreach (var token in tokens)
        {
            await Task.Yield();
            yield return new ChatResponseUpdate(ChatRole.Assistant, token);
        }
    }

    private static async IAsyncEnumerable<ChatResponseUpdate> WithUsage()
    {
        await Task.Yield();
        yield return new ChatResponseUpdate(ChatRole.Assistant, "hi");
        yield return new ChatResponseUpdate { Contents = [new UsageContent(new UsageDetails { InputTokenCount = 3, OutputTokenCount = 7 })] };
    }

    private static async IAsyncEnumerable<ChatResponseUpdate> Stalling(TaskCompletionSource released, TaskCompletionSource cancelled, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        yield return new ChatResponseUpdate(ChatRole.Assistant, "Once");
        try
        {
            await released.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            cancelled.TrySetResult();
            throw;
        }
        yield return new ChatResponseUpdate(ChatRole.Assistant, " upon a time");
    }

    private static async IAsyncEnumerable<ChatResponseUpdate> Failing()
    {
        await Task.Yield();
        throw new HttpRequestException("model overloaded");
#pragma warning disable CS0162 // an iterator needs a yield
        yield break;
#pragma warning restore CS0162
    }

    /// <summary>A hand-written fake in the Microsoft.Extensions.AI style: behaviour through callback properties.</summary>
    private sealed class FakeChatClient : IChatClient
    {
        public Func<IEnumerable<ChatMessage>, CancellationToken, IAsyncEnumerable<ChatResponseUpdate>> Answer { get; set; } = (_, _) => Tokens();

        public IReadOnlyList<ChatMessage>? LastMessages { get; private set; }

        public ChatOptions? LastOptions { get; private set; }

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
            => GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            LastMessages = messages.ToList();
            LastOptions = options;
            return Answer(messages, cancellationToken);
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
