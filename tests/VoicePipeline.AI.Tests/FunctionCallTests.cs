using System.ComponentModel;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Server;
using VoicePipeline.AI.Tests.Support;
using VoicePipeline.Frames;
using VoicePipeline.Pipelines;
using VoicePipeline.Testing;
using static VoicePipeline.AI.Tests.Support.Speech;

namespace VoicePipeline.AI.Tests;

/// <summary>Function calling against the emulator's OpenAI-format tool calls, over a real socket.</summary>
public sealed class FunctionCallTests : IAsyncLifetime
{
    private EmulatorChat _chat = null!;

    public async Task InitializeAsync() => _chat = await EmulatorChat.StartAsync();

    public async Task DisposeAsync() => await _chat.DisposeAsync();

    private Pipeline Agent(LlmContext context)
    {
        var pair = context.CreateAggregators();
        return new Pipeline(pair.User, new ChatClientLlmService(_chat.Client), pair.Assistant);
    }

    private static async Task<FrameProcessorHarness> TurnAsync(Pipeline pipeline, string text, int replies = 2)
    {
        var harness = await FrameProcessorHarness.StartAsync(pipeline);
        await harness.SendAsync(Started());
        await harness.SendAsync(Stopped());
        await harness.SendAsync(Final(text));
        await harness.WaitForDownstreamAsync<LlmFullResponseEndFrame>(_ => harness.Downstream.OfType<LlmFullResponseEndFrame>().Count() >= replies);
        return harness;
    }

    private static string Describe(ChatMessage m)
        => $"{m.Role}: " + string.Join(" | ", m.Contents.Select(c => c switch
        {
            FunctionCallContent call => $"call {call.Name}({string.Join(",", call.Arguments!.Select(a => $"{a.Key}={a.Value}"))})",
            FunctionResultContent result => $"result {result.Result}",
            TextContent text => text.Text,
            _ => c.GetType().Name,
        }));

    [Fact]
    public async Task Two_calls_in_one_reply_run_in_parallel_and_the_llm_speaks_from_their_results()
    {
        // Each function waits until both are running: the reply only completes if they run at the same time.
        var bothRunning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = 0;
        async Task Meet(CancellationToken ct)
        {
            if (Interlocked.Increment(ref running) == 2)
                bothRunning.TrySetResult();
            await bothRunning.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
        }
        var context = new LlmContext(tools:
        [
            AIFunctionFactory.Create(async (int a, int b, CancellationToken ct) => { await Meet(ct); return a + b; }, "add"),
            AIFunctionFactory.Create(async (string city, CancellationToken ct) => { await Meet(ct); return $"sunny in {city}"; }, "get_weather"),
        ]);
        await using var harness = await TurnAsync(Agent(context), "add 2 and 3 and get weather for Paris");
        await harness.EndAsync();

        bothRunning.Task.IsCompletedSuccessfully.Should().BeTrue();
        context.Messages.Select(Describe).Should().Equal(
            "user: add 2 and 3 and get weather for Paris",
            "assistant: call add(a=2,b=3) | call get_weather(city=for Paris)",
            "tool: result 5",
            "tool: result sunny in for Paris",
            "assistant: add returned 5 and get_weather returned sunny in for Paris. (offline emulator)");
        harness.Downstream.OfType<FunctionCallsStartedFrame>().Should().ContainSingle().Which.Calls.Select(c => c.Name).Should().Equal("add", "get_weather");
        harness.Downstream.OfType<FunctionCallInProgressFrame>().Select(f => f.FunctionName).Should().BeEquivalentTo("add", "get_weather");
        harness.Downstream.OfType<FunctionCallResultFrame>().Select(f => (f.FunctionName, f.Result?.ToString())).Should().BeEquivalentTo([("add", "5"), ("get_weather", "sunny in for Paris")]);
        harness.Upstream.OfType<FunctionCallResultFrame>().Should().HaveCount(2, "the frames go upstream too, for mute filters");
        _chat.Client.Requests.Should().HaveCount(2, "the call round and the spoken answer");
    }

    [Fact]
    public async Task A_failing_tool_becomes_an_error_result_the_llm_sees()
    {
        var context = new LlmContext(tools: [AIFunctionFactory.Create(string () => throw new InvalidOperationException("the sensor is offline"), "read_sensor")]);
        await using var harness = await TurnAsync(Agent(context), "please read sensor");
        await harness.EndAsync();

        var result = harness.Downstream.OfType<FunctionCallResultFrame>().Should().ContainSingle().Subject;
        result.Exception.Should().BeOfType<InvalidOperationException>();
        result.Result.Should().Be("Error: the sensor is offline");
        harness.Upstream.OfType<ErrorFrame>().Should().BeEmpty("a failing tool is an answer, not an error");
        context.Messages.Last().Text.Should().Be("read_sensor returned Error: the sensor is offline. (offline emulator)");
    }

    [Fact]
    public async Task An_interruption_cancels_a_call_in_flight_but_not_an_uninterruptible_one()
    {
        var slowStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slowCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bookingRelease = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var context = new LlmContext(tools:
        [
            AIFunctionFactory.Create(async (CancellationToken ct) =>
            {
                slowStarted.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                    slowCancelled.TrySetResult();
                    throw;
                }
                return "never";
            }, "search"),
            AIFunctionFactory.Create(async () => { await bookingRelease.Task; return "booked"; }, "book").AsUninterruptible(),
        ]);
        await using var harness = await FrameProcessorHarness.StartAsync(Agent(context));
        await harness.SendAsync(Final("search and book"));
        await slowStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await harness.WaitForDownstreamAsync<FunctionCallInProgressFrame>(_ => harness.Downstream.OfType<FunctionCallInProgressFrame>().Count() == 2);
        await harness.SendAsync(new InterruptionFrame());
        await slowCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // The cancelled call's result is pushed by the call's own task, so wait for it rather than assume it beats the end.
        await harness.WaitForDownstreamAsync<FunctionCallResultFrame>(f => f.FunctionName == "search");
        bookingRelease.SetResult();
        await harness.WaitForDownstreamAsync<FunctionCallResultFrame>(f => f.FunctionName == "book");
        await harness.EndAsync();

        harness.Downstream.OfType<FunctionCallInProgressFrame>().Single(f => f.FunctionName == "book").CancelOnInterruption.Should().BeFalse();
        harness.Downstream.OfType<FunctionCallResultFrame>().Single(f => f.FunctionName == "search").Cancelled.Should().BeTrue();
        context.Messages.Where(m => m.Role == ChatRole.Tool).Select(Describe).Should().Equal(
            "tool: result Cancelled: the user interrupted before the function finished.", "tool: result booked");
        _chat.Client.Requests.Should().HaveCount(1, "an interrupted reply does not ask again");
    }

    [Fact]
    public async Task Tools_of_a_stdio_mcp_server_are_called_like_any_function()
    {
        var server = Path.Combine(AppContext.BaseDirectory.Replace("VoicePipeline.AI.Tests", "VoicePipeline.McpTestServer", StringComparison.Ordinal), "VoicePipeline.McpTestServer.dll");
        File.Exists(server).Should().BeTrue(server);
        await using var mcp = await McpTools.ConnectCommandLineAsync($"dotnet \"{server}\"");
        mcp.Tools.Select(t => t.Name).Should().BeEquivalentTo("add", "get_weather", "weather", "broken");
        var context = new LlmContext(tools: mcp.Tools);

        await using var harness = await TurnAsync(Agent(context), "add 19 and 23");
        await harness.EndAsync();

        harness.Downstream.OfType<FunctionCallResultFrame>().Should().ContainSingle().Which.FunctionName.Should().Be("add");
        context.Messages.Last().Text.Should().StartWith("add returned").And.Contain("42");
    }

    [Fact]
    public async Task Tools_of_an_http_mcp_server_are_listed_and_called_through_the_llm_service()
    {
        // A real MCP server over streamable HTTP (the SDK's ASP.NET Core transport) on a loopback port.
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddMcpServer().WithHttpTransport().WithTools<HttpTools>();
        await using var app = builder.Build();
        app.MapMcp("/mcp");
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();

        await using (var mcp = await McpTools.ConnectHttpAsync(new Uri(address + "/mcp")))
        {
            mcp.Tools.Select(t => t.Name).Should().BeEquivalentTo("multiply", "shout");
            mcp.Tools.Single(t => t.Name == "multiply").Description.Should().Be("Multiplies two integers.");
            var context = new LlmContext(tools: mcp.Tools);

            await using var harness = await TurnAsync(Agent(context), "multiply 6 and 7");
            await harness.EndAsync();

            var result = harness.Downstream.OfType<FunctionCallResultFrame>().Should().ContainSingle().Subject;
            result.FunctionName.Should().Be("multiply");
            result.Exception.Should().BeNull();
            context.Messages.Select(m => m.Role.Value).Should().Equal("user", "assistant", "tool", "assistant");
            Describe(context.Messages[1]).Should().Be("assistant: call multiply(a=6,b=7)");
            context.Messages[^1].Text.Should().StartWith("multiply returned").And.Contain("42");
            HttpTools.Calls.Should().Be(1, "the server ran the call");
        }
        await app.StopAsync();
    }

    [Fact]
    public void Command_lines_split_like_a_shell()
        => McpTools.SplitCommandLine("dotnet \"my server.dll\" --name 'a b' c\\ d").Should().Equal("dotnet", "my server.dll", "--name", "a b", "c d");
}

/// <summary>The tools of the in-process HTTP MCP server.</summary>
[McpServerToolType]
public sealed class HttpTools
{
    private static int s_calls;

    public static int Calls => Volatile.Read(ref s_calls);

    [McpServerTool(Name = "multiply"), Description("Multiplies two integers.")]
    public static int Multiply(int a, int b)
    {
        Interlocked.Increment(ref s_calls);
        return a * b;
    }

    [McpServerTool(Name = "shout"), Description("Repeats a text in capitals.")]
    public static string Shout(string text) => text.ToUpperInvariant();
}
