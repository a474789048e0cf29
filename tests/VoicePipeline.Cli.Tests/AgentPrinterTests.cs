using System.Text.Json;
using Microsoft.Extensions.AI;
using VoicePipeline.AI;
using VoicePipeline.Cli.Commands;
using VoicePipeline.Frames;
using VoicePipeline.Testing;

namespace VoicePipeline.Cli.Tests;

/// <summary>
/// The function events and the context line of <c>vp agent --json</c>, fed the LLM service's real frames and a context
/// with a tool round (spoken tool names are beyond what the offline recognizer hears reliably).
/// </summary>
public class AgentPrinterTests
{
    [Fact]
    public async Task Function_calls_results_and_the_context_with_tool_calls_print_as_json_lines()
    {
        var output = new StringWriter();
        var printer = new AgentCommand.ConversationPrinter(output, json: true);
        var arguments = new Dictionary<string, object?> { ["city"] = "Paris" };
        await FrameProcessorHarness.RunAsync(printer, [
            new FunctionCallInProgressFrame("call_1", "get_weather", arguments),
            new FunctionCallResultFrame("call_1", "get_weather", arguments, "sunny and 21 degrees in Paris"),
        ]);
        var context = new LlmContext("Be brief.");
        context.AddMessage(new ChatMessage(ChatRole.User, "get weather in Paris"));
        context.AddMessage(new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("call_1", "get_weather", arguments)]));
        context.AddMessage(new ChatMessage(ChatRole.Tool, [new FunctionResultContent("call_1", "sunny and 21 degrees in Paris")]));
        context.AddMessage(new ChatMessage(ChatRole.Assistant, "It is sunny and 21 degrees in Paris."));
        printer.Context(context);

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        lines.Select(l => l.GetProperty("type").GetString()).Should().Equal("function_call", "function_result", "context");
        lines[0].GetProperty("name").GetString().Should().Be("get_weather");
        lines[0].GetProperty("arguments").GetProperty("city").GetString().Should().Be("Paris");
        lines[1].GetProperty("result").GetString().Should().Be("sunny and 21 degrees in Paris");

        var messages = lines[2].GetProperty("messages").EnumerateArray().ToList();
        messages.Select(m => m.GetProperty("role").GetString()).Should().Equal("system", "user", "assistant", "tool", "assistant");
        var call = messages[2].GetProperty("tool_calls").EnumerateArray().Single();
        call.GetProperty("name").GetString().Should().Be("get_weather");
        call.GetProperty("arguments").GetProperty("city").GetString().Should().Be("Paris");
        messages[3].GetProperty("name").GetString().Should().Be("get_weather");
        messages[3].GetProperty("content").GetString().Should().Be("sunny and 21 degrees in Paris");
        messages[4].GetProperty("content").GetString().Should().Be("It is sunny and 21 degrees in Paris.");
    }

    [Fact]
    public async Task Without_json_function_events_are_readable_lines()
    {
        var output = new StringWriter();
        var printer = new AgentCommand.ConversationPrinter(output, json: false);
        var arguments = new Dictionary<string, object?> { ["a"] = 19, ["b"] = 23 };
        await FrameProcessorHarness.RunAsync(printer, [
            new FunctionCallInProgressFrame("call_1", "add", arguments),
            new FunctionCallResultFrame("call_1", "add", arguments, 42),
        ]);
        printer.Context(new LlmContext("Be brief."));

        output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Should().Equal("function call: add({\"a\":19,\"b\":23})", "function result: add -> 42");
    }
}
