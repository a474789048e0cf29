using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using VoicePipeline.Frames;
using VoicePipeline.Metrics;
using VoicePipeline.Processors;
using VoicePipeline.Services;

namespace VoicePipeline.AI;

/// <summary>
/// The base of LLM services: owns the frame protocol so a provider only streams a response. An
/// <see cref="LlmContextFrame"/> (one per user turn, from the user aggregator) is answered as
/// <see cref="LlmFullResponseStartFrame"/>, <see cref="TextFrame"/> tokens and <see cref="LlmFullResponseEndFrame"/>,
/// with time-to-first-byte, processing-time and token metrics; an interruption cancels the stream.
/// Function calls (<see cref="FunctionCallContent"/> in the stream) run as the context's <see cref="AIFunction"/>s, in
/// parallel, announced by <see cref="FunctionCallsStartedFrame"/>, <see cref="FunctionCallInProgressFrame"/> and
/// <see cref="FunctionCallResultFrame"/> (downstream and upstream); call and result go into the context and the LLM
/// runs again for the spoken answer. A failing function becomes an error result the LLM sees; an interruption cancels
/// calls in flight except those of functions marked with <see cref="LlmFunctions.AsUninterruptible"/>.
/// </summary>
/// <remarks>
/// Without aggregators (no <see cref="LlmSetContextFrame"/> arrived) the service keeps a conversation of its own: each
/// final <see cref="TranscriptionFrame"/> becomes a user message and is answered, and what the LLM generated is
/// recorded (even when interrupted). With aggregators, the user aggregator decides when to answer and the assistant
/// aggregator records what the user heard.
/// </remarks>
public abstract partial class LlmService : FrameProcessor
{
    private readonly LlmContext _ownContext;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly ServiceSettingsTracker<LlmSettings> _settings;
    private volatile LlmContext? _sharedContext;

    /// <summary>Initializes the service.</summary>
    /// <param name="settings">The model settings; copied.</param>
    /// <param name="systemPrompt">The system prompt of the service's own conversation (used without aggregators).</param>
    /// <param name="name">A name for logs and metrics.</param>
    protected LlmService(LlmSettings? settings = null, string? systemPrompt = null, string? name = null)
        : base(name)
    {
        _settings = new ServiceSettingsTracker<LlmSettings>(settings ?? new LlmSettings());
        _ownContext = new LlmContext(systemPrompt);
        MetricsModel = _settings.Current.Model;
    }

    /// <summary>Gets the model settings in force.</summary>
    public LlmSettings Settings => _settings.Current;

    /// <summary>Gets the conversation the service answers: the aggregators' once one arrived, otherwise its own.</summary>
    public LlmContext Context => _sharedContext ?? _ownContext;

    /// <summary>Gets or sets how many rounds of function calls one reply may take before the service stops asking (default 8).</summary>
    public int MaxFunctionCallRounds { get; init; } = 8;

    /// <summary>Gets how many messages the service's own conversation keeps (without aggregators); 0 keeps all.</summary>
    protected int MaxOwnHistoryMessages { get; init; }

    /// <summary>Streams the model's response to <paramref name="messages"/>.</summary>
    /// <param name="messages">The request: system prompt and conversation.</param>
    /// <param name="options">Model, sampling settings and tools.</param>
    /// <param name="cancellationToken">Cancelled by an interruption.</param>
    protected abstract IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IReadOnlyList<ChatMessage> messages, ChatOptions options, CancellationToken cancellationToken);

    /// <summary>Builds the options of a request on <paramref name="context"/> from the settings in force and the context's tools.</summary>
    protected virtual ChatOptions CreateChatOptions(LlmContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var settings = _settings.Current;
        var options = new ChatOptions
        {
            ModelId = settings.Model,
            Temperature = (float?)settings.Temperature,
            TopP = (float?)settings.TopP,
            MaxOutputTokens = settings.MaxTokens,
        };
        var tools = context.Tools;
        if (tools.Count > 0)
        {
            options.Tools = [.. tools];
            options.ToolMode = context.ToolMode;
        }
        return options;
    }

    /// <summary>
    /// Applies a settings update that targets this service (through the shared <see cref="ServiceSettingsTracker{TSettings}"/>:
    /// only the properties it sets change) and returns what changed. Runs on the process loop, between replies.
    /// </summary>
    protected virtual IReadOnlyList<SettingChange> ApplySettings(LlmUpdateSettingsFrame update)
    {
        ArgumentNullException.ThrowIfNull(update);
        var changes = _settings.Apply(update, this, Logger);
        MetricsModel = _settings.Current.Model;
        return changes;
    }

    /// <inheritdoc />
    protected override async ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        switch (frame)
        {
            case LlmSetContextFrame set:
                _sharedContext = set.Context;
                break;
            case LlmContextFrame run:
                _sharedContext ??= run.Context;
                await RespondAsync(run.Context, cancellationToken).ConfigureAwait(false);
                break;
            case TranscriptionFrame { Finalized: true } transcription when direction == FrameDirection.Downstream && _sharedContext is null:
                await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
                if (!string.IsNullOrWhiteSpace(transcription.Text))
                {
                    AddOwn(new ChatMessage(ChatRole.User, transcription.Text));
                    await RespondAsync(_ownContext, cancellationToken).ConfigureAwait(false);
                }
                break;
            case LlmMessagesAppendFrame append:
                Context.AddMessages(append.Messages);
                if (append.RunLlm)
                    await RespondAsync(Context, cancellationToken).ConfigureAwait(false);
                break;
            case LlmMessagesUpdateFrame update:
                Context.SetMessages(update.Messages);
                if (update.RunLlm)
                    await RespondAsync(Context, cancellationToken).ConfigureAwait(false);
                break;
            case LlmSetToolsFrame tools:
                Context.SetTools(tools.Tools, tools.ToolMode);
                break;
            case LlmRunFrame:
                await RespondAsync(Context, cancellationToken).ConfigureAwait(false);
                break;
            case LlmUpdateSettingsFrame update:
                ApplySettings(update);
                await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false); // later LLMs may be targeted too
                break;
            default:
                await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    /// <inheritdoc />
    protected override async ValueTask OnCancelAsync(CancelFrame frame, CancellationToken cancellationToken)
    {
        await _shutdown.CancelAsync().ConfigureAwait(false);
        await base.OnCancelAsync(frame, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask CleanupAsync(CancellationToken cancellationToken = default)
    {
        await _shutdown.CancelAsync().ConfigureAwait(false);
        await base.CleanupAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override ValueTask DisposeAsyncCore()
    {
        _shutdown.Dispose();
        return base.DisposeAsyncCore();
    }

    /// <summary>Answers <paramref name="context"/>: streams a response, runs the function calls it asks for, and asks again.</summary>
    private async Task RespondAsync(LlmContext context, CancellationToken cancellationToken)
    {
        for (var round = 0; round <= MaxFunctionCallRounds; round++)
        {
            var calls = await StreamAsync(context, allowTools: round < MaxFunctionCallRounds, cancellationToken).ConfigureAwait(false);
            if (calls is not { Count: > 0 })
                return;
            await RunFunctionCallsAsync(context, calls, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Streams one response; returns the function calls it asked for, or null when it failed.</summary>
    private async Task<List<FunctionCallContent>?> StreamAsync(LlmContext context, bool allowTools, CancellationToken cancellationToken)
    {
        var messages = context.GetRequestMessages();
        var options = CreateChatOptions(context);
        if (!allowTools)
        {
            options.Tools = null;
            options.ToolMode = null;
        }
        var calls = new List<FunctionCallContent>();
        var answered = new HashSet<string>(StringComparer.Ordinal);
        var answer = new StringBuilder();
        await PushFrameAsync(new LlmFullResponseStartFrame(), FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
        StartTtfbMetrics();
        StartProcessingMetrics();
        try
        {
            await foreach (var update in GetStreamingResponseAsync(messages, options, cancellationToken).ConfigureAwait(false))
            {
                await StopTtfbMetricsAsync(cancellationToken).ConfigureAwait(false);
                foreach (var content in update.Contents)
                {
                    switch (content)
                    {
                        case UsageContent usage:
                            await ReportUsageAsync(new UsageMetricsData(Name, MetricsModel)
                            {
                                PromptTokens = (int?)usage.Details.InputTokenCount,
                                CompletionTokens = (int?)usage.Details.OutputTokenCount,
                            }, cancellationToken).ConfigureAwait(false);
                            break;
                        case FunctionCallContent call:
                            calls.Add(call);
                            break;
                        case FunctionResultContent result:
                            answered.Add(result.CallId); // a function-invoking client already ran it
                            break;
                    }
                }
                if (!string.IsNullOrEmpty(update.Text))
                {
                    answer.Append(update.Text);
                    await PushFrameAsync(new TextFrame(update.Text), FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
                }
            }
            await StopProcessingMetricsAsync(cancellationToken).ConfigureAwait(false);
            calls.RemoveAll(c => answered.Contains(c.CallId));
            await PushFrameAsync(new LlmFullResponseEndFrame { FunctionCallsFollow = allowTools && calls.Count > 0 }, FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await PushErrorAsync($"The LLM failed to answer: {exception.Message}", exception, ErrorCategory.Server, cancellationToken: CancellationToken.None).ConfigureAwait(false);
            await PushFrameAsync(new LlmFullResponseEndFrame(), FrameDirection.Downstream, CancellationToken.None).ConfigureAwait(false);
            return null;
        }
        finally
        {
            // Without an assistant aggregator, what was generated (interrupted or not) is the record of the reply.
            if (answer.Length > 0 && ReferenceEquals(context, _ownContext))
                AddOwn(new ChatMessage(ChatRole.Assistant, answer.ToString()));
        }
        return calls;
    }

    private async Task RunFunctionCallsAsync(LlmContext context, List<FunctionCallContent> calls, CancellationToken cancellationToken)
    {
        context.AddFunctionCalls(calls);
        await PushBothWaysAsync(() => new FunctionCallsStartedFrame(calls)).ConfigureAwait(false);
        var running = new Task[calls.Count];
        for (var i = 0; i < calls.Count; i++)
            running[i] = RunFunctionCallAsync(context, calls[i], cancellationToken);
        // An interruption ends the wait (and the reply); uninterruptible calls go on and record their results.
        await Task.WhenAll(running).WaitAsync(cancellationToken).ConfigureAwait(false);
        // The calls can all finish while the interruption's callbacks are still running: never ask again after one.
        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task RunFunctionCallAsync(LlmContext context, FunctionCallContent call, CancellationToken interruption)
    {
        var function = context.FindFunction(call.Name);
        var uninterruptible = function is not null && LlmFunctions.IsUninterruptible(function);
        var arguments = (IReadOnlyDictionary<string, object?>?)(call.Arguments as Dictionary<string, object?>)
            ?? new Dictionary<string, object?>(call.Arguments ?? new Dictionary<string, object?>(), StringComparer.Ordinal);
        using var linked = uninterruptible
            ? CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token)
            : CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token, interruption);
        var token = linked.Token;
        await PushBothWaysAsync(() => new FunctionCallInProgressFrame(call.CallId, call.Name, arguments) { CancelOnInterruption = !uninterruptible }).ConfigureAwait(false);

        object? result;
        Exception? failure = null;
        var cancelled = false;
        try
        {
            result = function is null
                ? $"Error: there is no function named '{call.Name}'."
                : await function.InvokeAsync(new AIFunctionArguments(call.Arguments ?? new Dictionary<string, object?>()), token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            cancelled = true;
            result = "Cancelled: the user interrupted before the function finished.";
        }
#pragma warning disable CA1031 // A failing tool is an answer the LLM sees, never an exception.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            failure = exception;
            result = $"Error: {exception.Message}";
            LogFunctionFailed(Logger, exception, Name, call.Name);
        }
        context.SetFunctionResult(call.CallId, result);
        await PushBothWaysAsync(() => new FunctionCallResultFrame(call.CallId, call.Name, arguments, result) { Exception = failure, Cancelled = cancelled }).ConfigureAwait(false);
    }

    private async ValueTask PushBothWaysAsync(Func<Frame> create)
    {
        await PushFrameAsync(create(), FrameDirection.Downstream, CancellationToken.None).ConfigureAwait(false);
        await PushFrameAsync(create(), FrameDirection.Upstream, CancellationToken.None).ConfigureAwait(false);
    }

    private void AddOwn(ChatMessage message)
    {
        _ownContext.AddMessage(message);
        if (MaxOwnHistoryMessages > 0)
            _ownContext.Trim(MaxOwnHistoryMessages);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Processor}: the function {Function} failed; the LLM gets the error as its result")]
    private static partial void LogFunctionFailed(ILogger logger, Exception exception, string processor, string function);
}
