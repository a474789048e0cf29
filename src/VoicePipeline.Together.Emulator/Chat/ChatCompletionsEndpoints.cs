using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace VoicePipeline.Together.Emulator.Chat;

/// <summary>
/// An OpenAI-compatible <c>/chat/completions</c> endpoint with a deterministic offline assistant
/// (<see cref="OfflineAssistant"/>): it repeats what it heard, calls the offered tools the user names (streamed as
/// <c>delta.tool_calls</c> chunks, finish reason <c>tool_calls</c>) and answers from tool results, so voice agents run
/// end to end without a model. A development tool: it understands nothing.
/// </summary>
internal static class ChatCompletionsEndpoints
{
    /// <summary>How many characters of a tool call's arguments go in one streamed chunk.</summary>
    private const int ArgumentsChunk = 8;

    public static IEndpointRouteBuilder MapChatCompletions(this IEndpointRouteBuilder routes, TogetherEmulatorOptions options, EmulatorState state)
    {
        routes.MapPost("/chat/completions", (HttpContext context) => HandleAsync(context, options, state));
        return routes;
    }

    private static async Task HandleAsync(HttpContext context, TogetherEmulatorOptions options, EmulatorState state)
    {
        var time = options.TimeProvider;
        var started = time.GetTimestamp();
        if (!EmulatorAuth.IsAuthorized(context.Request, options))
        {
            await EmulatorAuth.WriteUnauthorizedAsync(context.Response).ConfigureAwait(false);
            return;
        }
        JsonNode? request;
        try
        {
            request = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException exception)
        {
            await EmulatorAuth.WriteErrorAsync(context.Response, StatusCodes.Status400BadRequest, "invalid_request_error", "invalid_json", exception.Message).ConfigureAwait(false);
            return;
        }
        var model = request?["model"]?.GetValue<string>() ?? "emulator";
        var reply = OfflineAssistant.Decide(request);
        var id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        var calls = reply.ToolCalls.Select((call, i) => (Id: $"call_{id[^12..]}_{i}", Call: call)).ToList();
        var words = reply.Text?.Split(' ') ?? [];
        var completionTokens = words.Length + calls.Sum(c => 1 + c.Call.Arguments.Count);
        var usage = new JsonObject { ["prompt_tokens"] = 1, ["completion_tokens"] = completionTokens, ["total_tokens"] = 1 + completionTokens };
        var created = options.TimeProvider.GetUtcNow().ToUnixTimeSeconds();
        var finishReason = calls.Count > 0 ? "tool_calls" : "stop";
        var stream = request?["stream"]?.GetValue<bool>() == true;
        var log = new ChatRequestLog(model, stream, calls.Count);
        state.AddChatRequest(log);

        if (!stream)
        {
            var message = new JsonObject { ["role"] = "assistant", ["content"] = reply.Text };
            if (calls.Count > 0)
            {
                message["tool_calls"] = new JsonArray([.. calls.Select(c => (JsonNode)new JsonObject
                {
                    ["id"] = c.Id, ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = c.Call.Name, ["arguments"] = c.Call.Arguments.ToJsonString() },
                })]);
            }
            var body = new JsonObject
            {
                ["id"] = id, ["object"] = "chat.completion", ["created"] = created, ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = finishReason }),
                ["usage"] = usage,
            };
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
            log.MarkCompleted(time.GetElapsedTime(started));
            return;
        }

        context.Response.ContentType = "text/event-stream";
        for (var i = 0; i < words.Length; i++)
        {
            var delta = new JsonObject { ["content"] = (i == 0 ? "" : " ") + words[i] };
            if (i == 0)
                delta["role"] = "assistant";
            await WriteChunkAsync(context, id, created, model, delta, null, null).ConfigureAwait(false);
            log.MarkFirstToken(time.GetElapsedTime(started));
        }
        for (var index = 0; index < calls.Count; index++)
        {
            // The OpenAI shape: the first chunk of a call names it (index, id, name), the next ones carry its arguments in pieces.
            var (callId, call) = calls[index];
            var first = new JsonObject
            {
                ["index"] = index, ["id"] = callId, ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = "" },
            };
            var delta = new JsonObject { ["tool_calls"] = new JsonArray(first) };
            if (index == 0 && words.Length == 0)
                delta["role"] = "assistant";
            await WriteChunkAsync(context, id, created, model, delta, null, null).ConfigureAwait(false);
            log.MarkFirstToken(time.GetElapsedTime(started));
            var arguments = call.Arguments.ToJsonString();
            for (var at = 0; at < arguments.Length; at += ArgumentsChunk)
            {
                var piece = new JsonObject { ["index"] = index, ["function"] = new JsonObject { ["arguments"] = arguments.Substring(at, Math.Min(ArgumentsChunk, arguments.Length - at)) } };
                await WriteChunkAsync(context, id, created, model, new JsonObject { ["tool_calls"] = new JsonArray(piece) }, null, null).ConfigureAwait(false);
            }
        }
        await WriteChunkAsync(context, id, created, model, new JsonObject(), finishReason, usage).ConfigureAwait(false);
        await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted).ConfigureAwait(false);
        log.MarkCompleted(time.GetElapsedTime(started));
    }

    private static async Task WriteChunkAsync(HttpContext context, string id, long created, string model, JsonObject delta, string? finishReason, JsonObject? usage)
    {
        var chunk = new JsonObject
        {
            ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = created, ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finishReason }),
        };
        if (usage is not null)
            chunk["usage"] = usage.DeepClone();
        await context.Response.WriteAsync("data: " + chunk.ToJsonString() + "\n\n", context.RequestAborted).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }
}
