using Microsoft.Extensions.AI;

namespace VoicePipeline.AI;

/// <summary>
/// A conversation: the system prompt, the messages (Microsoft.Extensions.AI <see cref="ChatMessage"/>s), the tools the
/// LLM may call and the tool mode. Shared by a user and an assistant aggregator (<see cref="CreateAggregators"/>) and
/// read by the LLM service; every member is safe to call from any thread.
/// </summary>
public sealed class LlmContext
{
    private readonly Lock _gate = new();
    private readonly List<ChatMessage> _messages = [];
    private readonly List<AITool> _tools = [];
    private string? _systemPrompt;
    private ChatToolMode? _toolMode;

    /// <summary>Creates a conversation.</summary>
    /// <param name="systemPrompt">The instructions that open every request, or null.</param>
    /// <param name="messages">The messages so far.</param>
    /// <param name="tools">The tools the LLM may call (<see cref="AIFunction"/>s, MCP tools included).</param>
    /// <param name="toolMode">How the LLM may use the tools; null leaves the model's default.</param>
    public LlmContext(string? systemPrompt = null, IEnumerable<ChatMessage>? messages = null, IEnumerable<AITool>? tools = null, ChatToolMode? toolMode = null)
    {
        _systemPrompt = systemPrompt;
        if (messages is not null)
            _messages.AddRange(messages);
        if (tools is not null)
            _tools.AddRange(tools);
        _toolMode = toolMode;
    }

    /// <summary>Gets or sets the system prompt; null or empty sends none.</summary>
    public string? SystemPrompt
    {
        get { lock (_gate) return _systemPrompt; }
        set { lock (_gate) _systemPrompt = value; }
    }

    /// <summary>Gets or sets how the LLM may use the tools; null leaves the model's default.</summary>
    public ChatToolMode? ToolMode
    {
        get { lock (_gate) return _toolMode; }
        set { lock (_gate) _toolMode = value; }
    }

    /// <summary>Gets a copy of the messages (without the system prompt).</summary>
    public IReadOnlyList<ChatMessage> Messages
    {
        get { lock (_gate) return _messages.ToArray(); }
    }

    /// <summary>Gets a copy of the tools.</summary>
    public IReadOnlyList<AITool> Tools
    {
        get { lock (_gate) return _tools.ToArray(); }
    }

    /// <summary>Gets how many messages the conversation holds (without the system prompt).</summary>
    public int Count
    {
        get { lock (_gate) return _messages.Count; }
    }

    /// <summary>Appends a message.</summary>
    public void AddMessage(ChatMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        lock (_gate)
            _messages.Add(message);
    }

    /// <summary>Appends messages.</summary>
    public void AddMessages(IEnumerable<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        lock (_gate)
            _messages.AddRange(messages);
    }

    /// <summary>Replaces every message.</summary>
    public void SetMessages(IEnumerable<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var copy = messages.ToList();
        lock (_gate)
        {
            _messages.Clear();
            _messages.AddRange(copy);
        }
    }

    /// <summary>Replaces the tools, and the tool mode when <paramref name="toolMode"/> is given.</summary>
    public void SetTools(IEnumerable<AITool> tools, ChatToolMode? toolMode = null)
    {
        ArgumentNullException.ThrowIfNull(tools);
        var copy = tools.ToList();
        lock (_gate)
        {
            _tools.Clear();
            _tools.AddRange(copy);
            if (toolMode is not null)
                _toolMode = toolMode;
        }
    }

    /// <summary>Adds tools (for example an MCP server's) to those the LLM may call.</summary>
    public void AddTools(IEnumerable<AITool> tools)
    {
        ArgumentNullException.ThrowIfNull(tools);
        lock (_gate)
            _tools.AddRange(tools);
    }

    /// <summary>Finds the function the LLM may call by <paramref name="name"/>, or null.</summary>
    public AIFunction? FindFunction(string name)
    {
        lock (_gate)
            return _tools.OfType<AIFunction>().FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.Ordinal));
    }

    /// <summary>Removes <paramref name="message"/> when it is the last message, and says whether it was.</summary>
    public bool RemoveLastMessage(ChatMessage message)
    {
        lock (_gate)
        {
            if (_messages.Count == 0 || !ReferenceEquals(_messages[^1], message))
                return false;
            _messages.RemoveAt(_messages.Count - 1);
            return true;
        }
    }

    /// <summary>Drops the oldest messages beyond <paramref name="maxMessages"/>, never leaving a tool result without its call first.</summary>
    public void Trim(int maxMessages)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxMessages);
        lock (_gate)
        {
            var drop = _messages.Count - maxMessages;
            while (drop > 0 && drop < _messages.Count && _messages[drop].Role == ChatRole.Tool)
                drop++;
            if (drop > 0)
                _messages.RemoveRange(0, Math.Min(drop, _messages.Count));
        }
    }

    /// <summary>
    /// Records function calls the LLM asked for: an assistant message with the calls and, right after it, one tool
    /// message per call whose result is a placeholder until <see cref="SetFunctionResult"/> replaces it, so the
    /// conversation stays well formed (every call followed by its result) even while calls run.
    /// </summary>
    public void AddFunctionCalls(IReadOnlyList<FunctionCallContent> calls, string pendingResult = "IN_PROGRESS")
    {
        ArgumentNullException.ThrowIfNull(calls);
        lock (_gate)
        {
            _messages.Add(new ChatMessage(ChatRole.Assistant, [.. calls]));
            foreach (var call in calls)
                _messages.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(call.CallId, pendingResult)]));
        }
    }

    /// <summary>Replaces the result of the call <paramref name="callId"/> (see <see cref="AddFunctionCalls"/>); false when the call is no longer in the conversation.</summary>
    public bool SetFunctionResult(string callId, object? result)
    {
        lock (_gate)
        {
            for (var i = _messages.Count - 1; i >= 0; i--)
            {
                if (_messages[i].Role == ChatRole.Tool
                    && _messages[i].Contents.OfType<FunctionResultContent>().Any(r => r.CallId == callId))
                {
                    _messages[i] = new ChatMessage(ChatRole.Tool, [new FunctionResultContent(callId, result)]);
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>Gets the messages of a request: the system prompt (if any) followed by the conversation.</summary>
    public IReadOnlyList<ChatMessage> GetRequestMessages()
    {
        lock (_gate)
        {
            var messages = new List<ChatMessage>(_messages.Count + 1);
            if (_systemPrompt is { Length: > 0 } system)
                messages.Add(new ChatMessage(ChatRole.System, system));
            messages.AddRange(_messages);
            return messages;
        }
    }

    /// <summary>
    /// Creates the user and assistant aggregators that keep this conversation (Pipecat's <c>LLMContextAggregatorPair</c>):
    /// place <see cref="LlmContextAggregatorPair.User"/> before the LLM service and
    /// <see cref="LlmContextAggregatorPair.Assistant"/> after the output transport.
    /// </summary>
    public LlmContextAggregatorPair CreateAggregators(LlmUserAggregatorOptions? userOptions = null, LlmAssistantAggregatorOptions? assistantOptions = null)
    {
        var user = new LlmUserAggregator(this, userOptions);
        return new(user, new LlmAssistantAggregator(this, assistantOptions) { User = user });
    }
}

/// <summary>The two aggregators that keep one <see cref="LlmContext"/>.</summary>
/// <param name="User">Before the LLM: makes user turns out of transcripts and runs the LLM once per turn.</param>
/// <param name="Assistant">After the output transport: records what the user heard of each reply, and the function calls.</param>
public sealed record LlmContextAggregatorPair(LlmUserAggregator User, LlmAssistantAggregator Assistant)
{
    /// <summary>
    /// Creates a <see cref="TurnPacer"/> for this pair, to place right after the VAD when the input comes faster than
    /// real time: after each end of speech it holds the input until the pair says the turn is settled.
    /// </summary>
    /// <param name="options">The pacer's settings, or null for the defaults.</param>
    /// <param name="name">A name for logs.</param>
    public TurnPacer CreateTurnPacer(TurnPacerOptions? options = null, string? name = null) => new(User, Assistant, options, name);
}
