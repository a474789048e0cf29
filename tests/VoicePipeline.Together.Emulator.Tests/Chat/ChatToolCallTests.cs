using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using VoicePipeline.Together.Chat;
using VoicePipeline.Together.Client;

namespace VoicePipeline.Together.Emulator.Tests.Chat;

/// <summary>The emulator's chat completions call tools the OpenAI way, deterministically, over a real socket.</summary>
public sealed class ChatToolCallTests : IAsyncLifetime
{
    private TogetherEmulator _emulator = null!;

    public async Task InitializeAsync() => _emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { ApiKey = "k" });

    public async Task DisposeAsync() => await _emulator.DisposeAsync();

    private IChatClient Client() => TogetherChat.CreateChatClient(new TogetherClientOptions { ApiKey = "k", BaseUrl = _emulator.BaseUrl }, "some/model");

    private static AIFunction Add() => AIFunctionFactory.Create((int a, int b) => a + b, "add", "Adds two numbers.");

    private static AIFunction Weather() => AIFunctionFactory.Create((string city) => $"sunny in {city}", "get_weather", "The weather in a city.");

    [Fact]
    public async Task A_named_tool_is_called_with_the_numbers_of_the_message_through_the_openai_chat_client()
    {
        using var client = Client();

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "please add 2 and 40")], new ChatOptions { Tools = [Add(), Weather()] }))
            updates.Add(update);

        var call = updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>().Should().ContainSingle().Subject;
        call.Name.Should().Be("add");
        call.CallId.Should().NotBeNullOrEmpty();
        call.Arguments!.ToDictionary(a => a.Key, a => a.Value?.ToString()).Should().Equal(new Dictionary<string, string?> { ["a"] = "2", ["b"] = "40" });
        updates.Last(u => u.FinishReason is not null).FinishReason.Should().Be(ChatFinishReason.ToolCalls);
        string.Concat(updates.Select(u => u.Text)).Should().BeEmpty();
        // The emulator's own time, for benchmarks: its first chunk was timed before the rest was written.
        var log = _emulator.ChatRequests.Should().ContainSingle().Subject;
        (log.Stream, log.ToolCalls, log.Model).Should().Be((true, 1, "some/model"));
        log.FirstTokenAfter.Should().NotBeNull().And.BeGreaterThanOrEqualTo(TimeSpan.Zero);
    }

    [Fact]
    public async Task Two_named_tools_are_called_in_one_reply_in_the_order_they_were_named()
    {
        using var client = Client();

        var response = await client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "get weather for Paris, and add 1 and 2")], new ChatOptions { Tools = [Add(), Weather()] }).ToChatResponseAsync();

        var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
        calls.Select(c => c.Name).Should().Equal("get_weather", "add");
        calls[0].Arguments!["city"]!.ToString().Should().Be("for Paris");
        calls.Select(c => c.CallId).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task A_tool_result_is_answered_from_the_result()
    {
        using var client = Client();
        List<ChatMessage> messages =
        [
            new(ChatRole.User, "add 2 and 3"),
            new(ChatRole.Assistant, [new FunctionCallContent("call_1", "add", new Dictionary<string, object?> { ["a"] = 2, ["b"] = 3 })]),
            new(ChatRole.Tool, [new FunctionResultContent("call_1", 5)]),
        ];

        var response = await client.GetStreamingResponseAsync(messages, new ChatOptions { Tools = [Add()] }).ToChatResponseAsync();

        response.Text.Should().Be("add returned 5. (offline emulator)");
        response.FinishReason.Should().Be(ChatFinishReason.Stop);
    }

    [Fact]
    public async Task No_tool_is_called_when_none_is_named_or_tool_choice_is_none()
    {
        using var client = Client();

        var unnamed = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "hello there")], new ChatOptions { Tools = [Add()] });
        var forbidden = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "add 1 and 2")], new ChatOptions { Tools = [Add()], ToolMode = ChatToolMode.None });
        var nonStreamedCall = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "add 1 and 2")], new ChatOptions { Tools = [Add()] });

        unnamed.Text.Should().Be("You said: hello there. (offline emulator)");
        forbidden.Text.Should().Be("You said: add 1 and 2. (offline emulator)");
        nonStreamedCall.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Should().ContainSingle().Which.Name.Should().Be("add");
    }

    [Fact]
    public async Task The_stream_carries_tool_calls_in_the_openai_chunk_format()
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_emulator.BaseUrl.ToString().TrimEnd('/') + "/chat/completions"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "k");
        var body = new JsonObject
        {
            ["model"] = "m", ["stream"] = true,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "add 12 and 30 please" }),
            ["tools"] = new JsonArray(JsonNode.Parse("""{"type":"function","function":{"name":"add","parameters":{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"required":["a","b"]}}}""")),
        };
        request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");

        using var response = await http.SendAsync(request);
        var chunks = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l["data: ".Length..]).Where(d => d != "[DONE]").Select(d => JsonNode.Parse(d)!["choices"]![0]!).ToList();

        var deltas = chunks.Select(c => c["delta"]!["tool_calls"]?[0]).Where(t => t is not null).ToList();
        deltas[0]!["index"]!.GetValue<int>().Should().Be(0);
        deltas[0]!["id"]!.GetValue<string>().Should().StartWith("call_");
        deltas[0]!["function"]!["name"]!.GetValue<string>().Should().Be("add");
        deltas.Count.Should().BeGreaterThan(2, "the arguments arrive in pieces");
        var arguments = string.Concat(deltas.Select(d => d!["function"]!["arguments"]!.GetValue<string>()));
        JsonSerializer.Deserialize<Dictionary<string, int>>(arguments).Should().Equal(new Dictionary<string, int> { ["a"] = 12, ["b"] = 30 });
        chunks.Last()["finish_reason"]!.GetValue<string>().Should().Be("tool_calls");
    }
}
