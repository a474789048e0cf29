using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace VoicePipeline.Together.Emulator.Chat;

/// <summary>
/// The emulator's deterministic assistant. It understands nothing, by design, so tests can predict it:
/// <list type="bullet">
/// <item>when the last message is a tool result, it answers from the results of that round of calls;</item>
/// <item>when tools are offered (and <c>tool_choice</c> is not <c>none</c>) and the user's last message names some of
/// them, it calls each named tool, in the order they are named; numeric parameters take the numbers written after the
/// tool's name up to the next tool's name (then any in the message), string parameters that text (or the whole message),
/// booleans true; optional parameters with nothing to fill them are left out;</item>
/// <item>otherwise it repeats what the user said.</item>
/// </list>
/// </summary>
internal static partial class OfflineAssistant
{
    /// <summary>The answer to the user's text.</summary>
    public static string Echo(string userText)
        => string.IsNullOrWhiteSpace(userText)
            ? "I did not catch that. (offline emulator)"
            : $"You said: {userText.Trim()}. (offline emulator)";

    /// <summary>Decides the reply to a chat completions request.</summary>
    public static Reply Decide(JsonNode? request)
    {
        var messages = request?["messages"] as JsonArray ?? [];
        var last = messages.LastOrDefault();
        if (Role(last) == "tool")
            return new Reply(AnswerFromResults(messages), []);

        var lastUser = messages.LastOrDefault(m => Role(m) == "user");
        var userText = Text(lastUser?["content"]);
        var toolChoice = request?["tool_choice"];
        var toolsOffered = request?["tools"] as JsonArray;
        if (toolsOffered is { Count: > 0 } && !(toolChoice is JsonValue choice && choice.TryGetValue<string>(out var mode) && mode == "none"))
        {
            var named = toolsOffered
                .Select(t => (Tool: t?["function"], At: IndexOfName(userText, t?["function"]?["name"]?.GetValue<string>())))
                .Where(x => x.Tool is not null && x.At.Index >= 0)
                .OrderBy(x => x.At.Index)
                .ToList();
            var calls = new List<ToolCall>();
            for (var i = 0; i < named.Count; i++)
            {
                // Each tool's own words run from its name to the next tool's name.
                var from = named[i].At.Index + named[i].At.Length;
                var to = i + 1 < named.Count ? Math.Max(from, named[i + 1].At.Index) : userText.Length;
                var tool = named[i].Tool!;
                calls.Add(new ToolCall(tool["name"]!.GetValue<string>(), Arguments(tool["parameters"], userText[from..to], userText)));
            }
            if (calls.Count > 0)
                return new Reply(null, calls);
        }
        return new Reply(Echo(userText), []);
    }

    private static string AnswerFromResults(JsonArray messages)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var message in messages)
        {
            if (Role(message) == "assistant" && message?["tool_calls"] is JsonArray toolCalls)
            {
                foreach (var call in toolCalls)
                {
                    if (call?["id"]?.GetValue<string>() is { } id && call["function"]?["name"]?.GetValue<string>() is { } name)
                        names[id] = name;
                }
            }
        }
        var results = new List<string>();
        for (var i = messages.Count - 1; i >= 0 && Role(messages[i]) == "tool"; i--)
        {
            var id = messages[i]?["tool_call_id"]?.GetValue<string>() ?? string.Empty;
            var name = names.GetValueOrDefault(id, "the tool");
            results.Insert(0, $"{name} returned {Text(messages[i]?["content"]).Trim().Trim('"')}");
        }
        return string.Join(" and ", results) + ". (offline emulator)";
    }

    private static JsonObject Arguments(JsonNode? parameters, string own, string userText)
    {
        var arguments = new JsonObject();
        if (parameters?["properties"] is not JsonObject properties)
            return arguments;
        var required = (parameters["required"] as JsonArray)?.Select(r => r?.GetValue<string>()).ToHashSet(StringComparer.Ordinal) ?? [];
        var numbers = new Queue<double>(Numbers(own).Concat(Numbers(userText)));
        var rest = own.Trim().TrimEnd('.', '?', '!', ',').Trim();
        if (rest.EndsWith(" and", StringComparison.OrdinalIgnoreCase))
            rest = rest[..^4].TrimEnd(',', ' ');
        foreach (var (name, schema) in properties)
        {
            var type = schema?["type"] switch
            {
                JsonValue v => v.GetValue<string>(),
                JsonArray a => a.Select(x => x?.GetValue<string>()).FirstOrDefault(x => x is not "null"),
                _ => null,
            };
            switch (type)
            {
                case "integer" when numbers.Count > 0:
                    arguments[name] = (long)numbers.Dequeue();
                    break;
                case "number" when numbers.Count > 0:
                    arguments[name] = numbers.Dequeue();
                    break;
                case "boolean":
                    arguments[name] = true;
                    break;
                case "string" when required.Contains(name) || rest.Length > 0:
                    arguments[name] = rest.Length > 0 ? rest : userText.Trim();
                    break;
            }
        }
        return arguments;
    }

    private static IEnumerable<double> Numbers(string text)
        => NumberPattern().Matches(text).Select(m => double.Parse(m.Value, CultureInfo.InvariantCulture));

    /// <summary>Where <paramref name="text"/> names the tool: its name, or the name with underscores read as spaces.</summary>
    private static (int Index, int Length) IndexOfName(string text, string? name)
    {
        if (string.IsNullOrEmpty(name))
            return (-1, 0);
        foreach (var form in new[] { name, name.Replace('_', ' ') })
        {
            var index = text.IndexOf(form, StringComparison.OrdinalIgnoreCase);
            if (index >= 0)
                return (index, form.Length);
        }
        return (-1, 0);
    }

    private static string? Role(JsonNode? message) => message?["role"]?.GetValue<string>();

    private static string Text(JsonNode? content) => content switch
    {
        JsonValue value when value.TryGetValue<string>(out var s) => s,
        JsonArray parts => string.Concat(parts.Select(p => p?["text"]?.GetValue<string>())),
        null => string.Empty,
        _ => content.ToJsonString(),
    };

    [GeneratedRegex(@"-?\d+(\.\d+)?")]
    private static partial Regex NumberPattern();

    /// <summary>The reply: text, or tool calls.</summary>
    public sealed record Reply(string? Text, IReadOnlyList<ToolCall> ToolCalls);

    /// <summary>A call of a tool with its arguments.</summary>
    public sealed record ToolCall(string Name, JsonObject Arguments);
}
