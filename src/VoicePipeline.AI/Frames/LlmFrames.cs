using Microsoft.Extensions.AI;
using VoicePipeline.AI;

namespace VoicePipeline.Frames;

/// <summary>
/// Runs the LLM on <see cref="Context"/>: the user aggregator pushes one per user turn (and for an
/// <see cref="LlmRunFrame"/>), and an <see cref="LlmService"/> answers it.
/// </summary>
public sealed class LlmContextFrame : DataFrame
{
    /// <summary>Creates the frame.</summary>
    public LlmContextFrame(LlmContext context) => Context = context ?? throw new ArgumentNullException(nameof(context));

    /// <summary>Gets the conversation to answer.</summary>
    public LlmContext Context { get; }
}

/// <summary>
/// Tells the LLM service which conversation it serves; the user aggregator pushes it right after the
/// <see cref="StartFrame"/>, so from then on the service answers <see cref="LlmContextFrame"/>s only and leaves the
/// recording of what was said to the aggregators.
/// </summary>
public sealed class LlmSetContextFrame : ControlFrame, IUninterruptibleFrame
{
    /// <summary>Creates the frame.</summary>
    public LlmSetContextFrame(LlmContext context) => Context = context ?? throw new ArgumentNullException(nameof(context));

    /// <summary>Gets the conversation.</summary>
    public LlmContext Context { get; }
}

/// <summary>Appends messages to the conversation, and runs the LLM when <see cref="RunLlm"/> is set (Pipecat's <c>LLMMessagesAppendFrame</c>).</summary>
public sealed class LlmMessagesAppendFrame : DataFrame
{
    /// <summary>Creates the frame.</summary>
    public LlmMessagesAppendFrame(IEnumerable<ChatMessage> messages, bool runLlm = false)
    {
        ArgumentNullException.ThrowIfNull(messages);
        Messages = [.. messages];
        RunLlm = runLlm;
    }

    /// <summary>Gets the messages to append.</summary>
    public IReadOnlyList<ChatMessage> Messages { get; }

    /// <summary>Gets whether the LLM runs once they are appended.</summary>
    public bool RunLlm { get; }
}

/// <summary>Replaces the conversation's messages, and runs the LLM when <see cref="RunLlm"/> is set (Pipecat's <c>LLMMessagesUpdateFrame</c>).</summary>
public sealed class LlmMessagesUpdateFrame : DataFrame
{
    /// <summary>Creates the frame.</summary>
    public LlmMessagesUpdateFrame(IEnumerable<ChatMessage> messages, bool runLlm = false)
    {
        ArgumentNullException.ThrowIfNull(messages);
        Messages = [.. messages];
        RunLlm = runLlm;
    }

    /// <summary>Gets the new messages.</summary>
    public IReadOnlyList<ChatMessage> Messages { get; }

    /// <summary>Gets whether the LLM runs once they are set.</summary>
    public bool RunLlm { get; }
}

/// <summary>Replaces the tools the LLM may call (Pipecat's <c>LLMSetToolsFrame</c>).</summary>
public sealed class LlmSetToolsFrame : DataFrame
{
    /// <summary>Creates the frame.</summary>
    public LlmSetToolsFrame(IEnumerable<AITool> tools, ChatToolMode? toolMode = null)
    {
        ArgumentNullException.ThrowIfNull(tools);
        Tools = [.. tools];
        ToolMode = toolMode;
    }

    /// <summary>Gets the tools.</summary>
    public IReadOnlyList<AITool> Tools { get; }

    /// <summary>Gets the tool mode, or null to keep the current one.</summary>
    public ChatToolMode? ToolMode { get; }
}

/// <summary>Runs the LLM on the conversation as it is (Pipecat's <c>LLMRunFrame</c>).</summary>
public sealed class LlmRunFrame : DataFrame;

/// <summary>The LLM asked for function calls; they are about to run. Pushed downstream and upstream.</summary>
public sealed class FunctionCallsStartedFrame : SystemFrame
{
    /// <summary>Creates the frame.</summary>
    public FunctionCallsStartedFrame(IReadOnlyList<FunctionCallContent> calls) => Calls = calls ?? throw new ArgumentNullException(nameof(calls));

    /// <summary>Gets the calls, in the order the LLM asked for them.</summary>
    public IReadOnlyList<FunctionCallContent> Calls { get; }
}

/// <summary>One function call is running. Pushed downstream and upstream.</summary>
public sealed class FunctionCallInProgressFrame : ControlFrame, IUninterruptibleFrame
{
    /// <summary>Creates the frame.</summary>
    public FunctionCallInProgressFrame(string callId, string functionName, IReadOnlyDictionary<string, object?> arguments)
    {
        CallId = callId ?? throw new ArgumentNullException(nameof(callId));
        FunctionName = functionName ?? throw new ArgumentNullException(nameof(functionName));
        Arguments = arguments ?? throw new ArgumentNullException(nameof(arguments));
    }

    /// <summary>Gets the id the LLM gave the call.</summary>
    public string CallId { get; }

    /// <summary>Gets the function's name.</summary>
    public string FunctionName { get; }

    /// <summary>Gets the arguments.</summary>
    public IReadOnlyDictionary<string, object?> Arguments { get; }

    /// <summary>Gets whether an interruption cancels the call (false for tools marked uninterruptible).</summary>
    public bool CancelOnInterruption { get; init; } = true;
}

/// <summary>A function call finished: its result, or the error the LLM sees instead. Pushed downstream and upstream.</summary>
public sealed class FunctionCallResultFrame : DataFrame, IUninterruptibleFrame
{
    /// <summary>Creates the frame.</summary>
    public FunctionCallResultFrame(string callId, string functionName, IReadOnlyDictionary<string, object?> arguments, object? result)
    {
        CallId = callId ?? throw new ArgumentNullException(nameof(callId));
        FunctionName = functionName ?? throw new ArgumentNullException(nameof(functionName));
        Arguments = arguments ?? throw new ArgumentNullException(nameof(arguments));
        Result = result;
    }

    /// <summary>Gets the id the LLM gave the call.</summary>
    public string CallId { get; }

    /// <summary>Gets the function's name.</summary>
    public string FunctionName { get; }

    /// <summary>Gets the arguments.</summary>
    public IReadOnlyDictionary<string, object?> Arguments { get; }

    /// <summary>Gets the result as the LLM sees it (an error text when the call failed or was cancelled).</summary>
    public object? Result { get; }

    /// <summary>Gets the failure, when the function threw.</summary>
    public Exception? Exception { get; init; }

    /// <summary>Gets whether the call was cancelled by an interruption.</summary>
    public bool Cancelled { get; init; }
}
