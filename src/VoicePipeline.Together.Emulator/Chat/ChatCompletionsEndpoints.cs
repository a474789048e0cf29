using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace VoicePipeline.Together.Emulator.Chat;

/// <summary>
/// An OpenAI-compatible <c>/chat/completions</c> endpoint with a deterministic offline assistant that repeats what it
/// heard, so voice agents run end to end without a model. A development tool: it understands nothing.
/// </summary>
internal static class ChatCompletionsEndpoints
{
    public static IEndpointRouteBuilder MapChatCompletions(this IEndpointRouteBuilder routes, TogetherEmulatorOptions options)
    {
        routes.MapPost("/chat/completions", (HttpContext context) => HandleAsync(context, options));
        return routes;
    }

    /// <summary>The offline assistant's answer to <paramref name="userText"/>.</summary>
    internal static string Answer(string userText)
        => string.IsNullOrWhiteSpace(userText)
            ? "I did not catch that. (offline emulator)"
            : $"You said: {userText.Trim()}. (offline emulator)";

    private static async Task HandleAsync(HttpContext context, TogetherEmulatorOptions options)
    {
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
        var lastUser = request?["messages"]?.AsArray().LastOrDefault(m => m?["role"]?.GetValue<string>() == "user");
        var answer = Answer(lastUser?["content"] switch
        {
            JsonValue value => value.GetValue<string>(),
            JsonArray parts => string.Concat(parts.Select(p => p?["text"]?.GetValue<string>())),
            _ => string.Empty,
        });
        var words = answer.Split(' ');
        var usage = new JsonObject { ["prompt_tokens"] = 1, ["completion_tokens"] = words.Length, ["total_tokens"] = 1 + words.Length };
        var id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        var created = options.TimeProvider.GetUtcNow().ToUnixTimeSeconds();

        if (request?["stream"]?.GetValue<bool>() != true)
        {
            var body = new JsonObject
            {
                ["id"] = id, ["object"] = "chat.completion", ["created"] = created, ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0,
                    ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = answer },
                    ["finish_reason"] = "stop",
                }),
                ["usage"] = usage,
            };
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
            return;
        }

        context.Response.ContentType = "text/event-stream";
        for (var i = 0; i < words.Length; i++)
        {
            var delta = new JsonObject { ["content"] = (i == 0 ? "" : " ") + words[i] };
            if (i == 0)
                delta["role"] = "assistant";
            await WriteChunkAsync(context, id, created, model, delta, null, null).ConfigureAwait(false);
        }
        await WriteChunkAsync(context, id, created, model, new JsonObject(), "stop", usage).ConfigureAwait(false);
        await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted).ConfigureAwait(false);
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
