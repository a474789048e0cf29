using Microsoft.Extensions.AI;
using VoicePipeline.AI;
using VoicePipeline.Frames;
using VoicePipeline.Testing;
using VoicePipeline.Together.Chat;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Emulator;

namespace VoicePipeline.Together.Tests.Chat;

public sealed class TogetherChatTests : IAsyncLifetime
{
    private TogetherEmulator _emulator = null!;

    public async Task InitializeAsync() => _emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { ApiKey = "test-key" });

    public async Task DisposeAsync() => await _emulator.DisposeAsync();

    [Fact]
    public async Task Streams_a_chat_answer_from_the_emulator_over_http()
    {
        using var client = TogetherChat.CreateChatClient(new TogetherClientOptions { ApiKey = "test-key", BaseUrl = _emulator.BaseUrl }, "some/model");

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "turn on the lights")]))
            updates.Add(update);

        string.Concat(updates.Select(u => u.Text)).Should().Be("You said: turn on the lights. (offline emulator)");
        updates.Count(u => u.Text.Length > 0).Should().BeGreaterThan(1, "the answer streams word by word");
        updates.Last().FinishReason.Should().Be(ChatFinishReason.Stop);
    }

    [Fact]
    public async Task A_wrong_key_is_rejected()
    {
        using var client = TogetherChat.CreateChatClient(new TogetherClientOptions { ApiKey = "wrong", BaseUrl = _emulator.BaseUrl });

        var act = () => client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")]);

        (await act.Should().ThrowAsync<Exception>()).Which.Message.Should().Contain("401").And.NotContain("wrong");
    }

    [Fact]
    public void A_missing_key_is_a_clear_error()
    {
        var act = () => TogetherChat.CreateChatClient(new TogetherClientOptions());

        act.Should().Throw<ArgumentException>().WithMessage("*TOGETHER_API_KEY*");
    }

    [Fact]
    public async Task The_llm_service_answers_a_transcript_through_the_emulator()
    {
        using var client = TogetherChat.CreateChatClient(new TogetherClientOptions { ApiKey = "test-key", BaseUrl = _emulator.BaseUrl });
        var service = new ChatClientLlmService(client);

        var result = await FrameProcessorHarness.RunAsync(service, [new TranscriptionFrame("what time is it", "user", DateTimeOffset.UtcNow, "en", finalized: true)]);

        string.Concat(result.Downstream.OfType<TextFrame>().Where(t => t is not TranscriptionFrame).Select(t => t.Text))
            .Should().Be("You said: what time is it. (offline emulator)");
        result.Errors.Should().BeEmpty();
    }
}
