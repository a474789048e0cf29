using System.Text;
using Microsoft.Extensions.AI;
using VoicePipeline.Frames;
using VoicePipeline.Processors;

namespace VoicePipeline.AI;

/// <summary>
/// Records the assistant's side of the conversation as the user heard it, after the output transport (Pipecat's
/// <c>LLMAssistantAggregator</c>): the <see cref="TtsTextFrame"/>s the output transport releases as their audio plays
/// become the reply's assistant message, closed by the <see cref="LlmFullResponseEndFrame"/> or cut by an
/// <see cref="InterruptionFrame"/> (then only the words already played stay). Without a TTS (a text agent), the
/// LLM's own text is recorded when the response ends. Function calls and their results are recorded by the
/// <see cref="LlmService"/> in the same context as they happen. Every frame passes on downstream.
/// </summary>
public sealed class LlmAssistantAggregator : FrameProcessor
{
    private readonly LlmContext _context;
    private readonly LlmAssistantAggregatorOptions _options;
    private readonly StringBuilder _spoken = new();
    private readonly StringBuilder _generated = new();
    private bool _sawSpokenText;
    private bool _functionCallsPending;
    private bool _replyOpen;

    /// <summary>Creates the aggregator of <paramref name="context"/>; <see cref="LlmContext.CreateAggregators"/> makes it with its user partner.</summary>
    public LlmAssistantAggregator(LlmContext context, LlmAssistantAggregatorOptions? options = null, string? name = null)
        : base(name)
    {
        _context = context ?? throw new ArgumentNullException(nameof(context));
        _options = options?.Clone() ?? new LlmAssistantAggregatorOptions();
    }

    /// <summary>Raised when a reply that spoke was recorded (its text is what was played out); handlers must return quickly.</summary>
    public event EventHandler<AssistantTurnEventArgs>? TurnEnded;

    /// <summary>Gets the conversation.</summary>
    public LlmContext Context => _context;

    /// <summary>Told when a reply is over: its last response ended (after its audio played), or it was interrupted under way.</summary>
    internal event Action? ReplyFinished;

    /// <summary>Gets or sets the user aggregator of the pair, told when a reply ended without a word played.</summary>
    internal LlmUserAggregator? User { get; set; }

    /// <summary>
    /// Spoken and generated text and response boundaries ride the system loop with the interruption, in arrival
    /// order: words played before an interruption are never dropped as queued work, and none after it is counted.
    /// </summary>
    public override ValueTask QueueFrameAsync(Frame frame, FrameDirection direction = FrameDirection.Downstream, CancellationToken cancellationToken = default)
        => direction == FrameDirection.Downstream && (frame is TtsTextFrame or LlmFullResponseStartFrame or LlmFullResponseEndFrame || frame.GetType() == typeof(TextFrame))
            ? base.QueueFrameAsync(new InOrder(frame), direction, cancellationToken)
            : base.QueueFrameAsync(frame, direction, cancellationToken);

    /// <inheritdoc />
    protected override async ValueTask ProcessSystemFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        if (frame is InOrder inOrder)
            frame = inOrder.Frame;
        lock (_spoken)
            Record(frame, direction);
        await PushFrameAsync(frame, direction, CancellationToken.None).ConfigureAwait(false);
    }

    private void Record(Frame frame, FrameDirection direction)
    {
        switch (frame)
        {
            case TtsTextFrame spoken:
                Append(_spoken, spoken.Text);
                _sawSpokenText = true;
                break;
            case TextFrame text when text.GetType() == typeof(TextFrame) && direction == FrameDirection.Downstream:
                _generated.Append(text.Text);
                break;
            case LlmFullResponseStartFrame:
                Flush(interrupted: false);
                _replyOpen = true;
                break;
            case LlmFullResponseEndFrame end:
                var recorded = Flush(interrupted: false);
                if (!recorded && !_functionCallsPending && !end.FunctionCallsFollow)
                    User?.OnReplyEndedSilently();
                _functionCallsPending = false;
                _replyOpen = end.FunctionCallsFollow;
                if (!end.FunctionCallsFollow)
                    ReplyFinished?.Invoke();
                break;
            case FunctionCallsStartedFrame when direction == FrameDirection.Downstream:
                _functionCallsPending = true;
                break;
            case InterruptionFrame:
                Flush(interrupted: true);
                _functionCallsPending = false;
                if (_replyOpen)
                {
                    // Only a reply under way ends here: the interruption that opened a turn is not that turn's answer.
                    _replyOpen = false;
                    ReplyFinished?.Invoke();
                }
                break;
        }
    }

    /// <inheritdoc />
    protected override ValueTask OnEndAsync(EndFrame frame, CancellationToken cancellationToken)
    {
        // The input loop (where the reply's state lives) may still be on a frame; an end has nothing after it to race.
        lock (_spoken)
            Flush(interrupted: false);
        return ValueTask.CompletedTask;
    }

    /// <summary>Records what the reply said; true when a message was added.</summary>
    private bool Flush(bool interrupted)
    {
        string text;
        if (_sawSpokenText || interrupted)
            text = _spoken.ToString().Trim();
        else
            text = _options.RecordUnspokenText ? _generated.ToString().Trim() : string.Empty;
        _spoken.Clear();
        _generated.Clear();
        _sawSpokenText = false;
        if (text.Length == 0)
            return false;
        _context.AddMessage(new ChatMessage(ChatRole.Assistant, text));
        TurnEnded?.Invoke(this, new AssistantTurnEventArgs(text, interrupted));
        return true;
    }

    /// <summary>Joins spoken words: a space between words, none before punctuation or when the text brings its own.</summary>
    private static void Append(StringBuilder builder, string text)
    {
        if (text.Length == 0)
            return;
        if (builder.Length > 0 && !char.IsWhiteSpace(builder[^1]) && !char.IsWhiteSpace(text[0]) && !IsClosingPunctuation(text[0]))
            builder.Append(' ');
        builder.Append(text);
    }

    private static bool IsClosingPunctuation(char c) => c is '.' or ',' or '!' or '?' or ';' or ':' or ')' or '\'' or '"';

    /// <summary>A frame carried on the system loop, in arrival order.</summary>
    private sealed class InOrder(Frame frame) : SystemFrame
    {
        public Frame Frame { get; } = frame;
    }
}

/// <summary>A reply that spoke, as recorded.</summary>
/// <param name="text">What was played out.</param>
/// <param name="interrupted">Whether the user interrupted it.</param>
public sealed class AssistantTurnEventArgs(string text, bool interrupted) : EventArgs
{
    /// <summary>Gets what was played out.</summary>
    public string Text { get; } = text;

    /// <summary>Gets whether the user interrupted the reply.</summary>
    public bool Interrupted { get; } = interrupted;
}

/// <summary>Settings of an <see cref="LlmAssistantAggregator"/>.</summary>
public sealed class LlmAssistantAggregatorOptions
{
    /// <summary>
    /// Gets or sets whether a response that reached the aggregator with no spoken text (no TTS in the pipeline) is
    /// recorded from the LLM's own text when it ends (default true).
    /// </summary>
    public bool RecordUnspokenText { get; set; } = true;

    /// <summary>Creates a copy.</summary>
    public LlmAssistantAggregatorOptions Clone() => (LlmAssistantAggregatorOptions)MemberwiseClone();
}
