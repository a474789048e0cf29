using Microsoft.Extensions.AI;
using VoicePipeline.Frames;
using VoicePipeline.Processors;

namespace VoicePipeline.AI;

/// <summary>
/// Makes user turns out of speech and transcripts, before the LLM service, and runs the LLM once per turn
/// (Pipecat's <c>LLMUserAggregator</c>). A turn ends when both the <see cref="UserStoppedSpeakingFrame"/> and the final
/// transcript of that speech have arrived, or <see cref="LlmUserAggregatorOptions.TranscriptTimeout"/> after the stop
/// when the transcript is late; transcripts that come without a VAD end a turn after
/// <see cref="LlmUserAggregatorOptions.QuietTime"/>. Every final transcript of the turn goes into one user message of the
/// <see cref="LlmContext"/>, and one <see cref="LlmContextFrame"/> follows; an empty turn gets no reply.
/// </summary>
/// <remarks>
/// <para>The bot never talks over the user: when the user speaks again after a turn ended but before the reply began
/// playing (no <see cref="BotStartedSpeakingFrame"/> yet), the reply is interrupted and the turn is open again, so its
/// text joins the next request.</para>
/// <para>With <see cref="LlmUserAggregatorOptions.InterruptOnSpeech"/> the user starting to speak interrupts the bot (an
/// <see cref="InterruptionFrame"/> goes downstream, when the pipeline allows interruptions); with
/// <see cref="LlmUserAggregatorOptions.InterruptionStrategies"/>, speech while the bot speaks interrupts only once a
/// strategy agrees (for example after a number of words), and a turn that never convinced one is dropped.</para>
/// <para>Transcripts and every other frame pass on downstream; <see cref="LlmMessagesAppendFrame"/>,
/// <see cref="LlmMessagesUpdateFrame"/>, <see cref="LlmSetToolsFrame"/> and <see cref="LlmRunFrame"/> act on the context here.</para>
/// </remarks>
public sealed class LlmUserAggregator : FrameProcessor
{
    private readonly LlmContext _context;
    private readonly LlmUserAggregatorOptions _options;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<string> _finals = [];
    private ITimer? _timer;
    private long _timerGeneration;
    private bool _userSpeaking;
    private bool _stopPending;
    private long _stoppedAt; // TimeProvider timestamp of the pending stop
    private bool _botSpeaking;
    private bool _interruptDeferred;
    private string _speechText = string.Empty;
    private TimeSpan? _speechStart;
    private TimeSpan? _speechEnd;
    private OpenTurn? _lastTurn;

    /// <summary>Creates the aggregator of <paramref name="context"/>; <see cref="LlmContext.CreateAggregators"/> makes it with its assistant partner.</summary>
    public LlmUserAggregator(LlmContext context, LlmUserAggregatorOptions? options = null, string? name = null)
        : base(name)
    {
        _context = context ?? throw new ArgumentNullException(nameof(context));
        _options = options?.Clone() ?? new LlmUserAggregatorOptions();
    }

    /// <summary>Raised when a user turn ends with text, right before the LLM is asked; handlers must return quickly.</summary>
    public event EventHandler<UserTurnEventArgs>? TurnEnded;

    /// <summary>Gets the conversation.</summary>
    public LlmContext Context => _context;

    /// <summary>Told when a turn closed (under the turn's lock): true when the LLM was asked to answer it, false for no reply.</summary>
    internal event Action<bool>? TurnClosed;

    /// <summary>Gets whether the bot is speaking, as the output transport last said.</summary>
    public bool BotSpeaking => Volatile.Read(ref _botSpeaking);

    /// <summary>Tells the aggregator that the reply to the last turn ended without a word played, so that turn is closed.</summary>
    internal void OnReplyEndedSilently()
    {
        _gate.Wait();
        try
        {
            _lastTurn = null;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    protected override async ValueTask OnStartAsync(StartFrame frame, CancellationToken cancellationToken)
    {
        // Before any transcript: from now on the LLM service answers this context's turns only.
        await PushFrameAsync(new LlmSetContextFrame(_context), FrameDirection.Downstream, CancellationToken.None).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override async ValueTask OnEndAsync(EndFrame frame, CancellationToken cancellationToken)
    {
        // A turn still waiting for its bound is answered before the end passes.
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (_finals.Count > 0 && !_userSpeaking)
                await EndTurnAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    protected override ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
        => HandleLockedAsync(frame, direction);

    /// <inheritdoc />
    protected override ValueTask ProcessSystemFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
        => HandleLockedAsync(frame, direction);

    /// <summary>Speech (input loop), transcripts (process loop) and the turn timer share the turn's state one at a time.</summary>
    private async ValueTask HandleLockedAsync(Frame frame, FrameDirection direction)
    {
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            await HandleAsync(frame, direction).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    protected override ValueTask DisposeAsyncCore()
    {
        _timer?.Dispose();
        _gate.Dispose();
        return ValueTask.CompletedTask;
    }

    private bool CanInterrupt => StartFrame?.AllowInterruptions != false;

    private async ValueTask HandleAsync(Frame frame, FrameDirection direction)
    {
        switch (frame)
        {
            case UserStartedSpeakingFrame started:
                await PushFrameAsync(frame, direction, CancellationToken.None).ConfigureAwait(false);
                await OnUserStartedAsync(started).ConfigureAwait(false);
                break;
            case UserStoppedSpeakingFrame stopped:
                // The bound starts before the frame goes on, so whoever sees the frame knows the clock is running.
                _userSpeaking = false;
                _speechEnd = stopped.SpeechEnd;
                _stopPending = true;
                _stoppedAt = TimeProvider.GetTimestamp();
                StartTimer(_options.TranscriptTimeout);
                await PushFrameAsync(frame, direction, CancellationToken.None).ConfigureAwait(false);
                break;
            case TranscriptionFrame transcription when direction == FrameDirection.Downstream:
                await OnFinalAsync(transcription, direction).ConfigureAwait(false);
                break;
            case InterimTranscriptionFrame interim when direction == FrameDirection.Downstream:
                if (!_userSpeaking && !_stopPending && _finals.Count > 0)
                    StartTimer(_options.QuietTime); // still talking: the quiet time starts again
                await PushFrameAsync(frame, direction, CancellationToken.None).ConfigureAwait(false);
                if (_interruptDeferred && ShouldInterrupt(Join(_speechText, interim.Text)))
                    await InterruptAsync().ConfigureAwait(false);
                break;
            case BotStartedSpeakingFrame:
                Volatile.Write(ref _botSpeaking, true);
                _lastTurn = null; // the reply is playing: the turn is closed for good
                await PushFrameAsync(frame, direction, CancellationToken.None).ConfigureAwait(false);
                break;
            case BotStoppedSpeakingFrame:
                Volatile.Write(ref _botSpeaking, false);
                await PushFrameAsync(frame, direction, CancellationToken.None).ConfigureAwait(false);
                break;
            case LlmMessagesAppendFrame append:
                _context.AddMessages(append.Messages);
                if (append.RunLlm)
                    await PushFrameAsync(new LlmContextFrame(_context), FrameDirection.Downstream, CancellationToken.None).ConfigureAwait(false);
                break;
            case LlmMessagesUpdateFrame update:
                _context.SetMessages(update.Messages);
                if (update.RunLlm)
                    await PushFrameAsync(new LlmContextFrame(_context), FrameDirection.Downstream, CancellationToken.None).ConfigureAwait(false);
                break;
            case LlmSetToolsFrame tools:
                _context.SetTools(tools.Tools, tools.ToolMode);
                break;
            case LlmRunFrame:
                await PushFrameAsync(new LlmContextFrame(_context), FrameDirection.Downstream, CancellationToken.None).ConfigureAwait(false);
                break;
            default:
                await PushFrameAsync(frame, direction, CancellationToken.None).ConfigureAwait(false);
                break;
        }
    }

    private async ValueTask OnUserStartedAsync(UserStartedSpeakingFrame started)
    {
        _userSpeaking = true;
        _stopPending = false;
        CancelTimer();
        _speechText = string.Empty;
        if (_finals.Count == 0)
            _speechStart = started.SpeechStart;

        if (_lastTurn is { } last)
        {
            // The reply has not begun playing: it must not play over the user. The turn opens again, its text first.
            _lastTurn = null;
            if (_context.RemoveLastMessage(last.Message))
            {
                _finals.InsertRange(0, last.Finals);
                _speechStart = last.Start;
            }
            await InterruptAsync().ConfigureAwait(false);
            return;
        }
        if (!_options.InterruptOnSpeech || !CanInterrupt)
            return;
        if (_options.InterruptionStrategies.Count > 0 && BotSpeaking)
            _interruptDeferred = true; // the bot speaks on until a strategy agrees
        else
            await InterruptAsync().ConfigureAwait(false);
    }

    private async ValueTask OnFinalAsync(TranscriptionFrame transcription, FrameDirection direction)
    {
        var text = transcription.Text.Trim();
        if (text.Length > 0)
        {
            if (_finals.Count == 0 && !_userSpeaking && !_stopPending)
                _speechStart = transcription.AudioStart; // a turn without a VAD
            _finals.Add(text);
            _speechText = Join(_speechText, text);
            if (!_userSpeaking && !_stopPending)
                _speechEnd = transcription.AudioEnd;
        }
        var interrupt = _interruptDeferred && ShouldInterrupt(_speechText);
        var endNow = false;
        if (_stopPending)
        {
            if (transcription.Finalized)
                endNow = true; // the stop and its final transcript: the turn is complete
            else
            {
                // More text of this speech may follow: the quiet time, but never less than the rest of the transcript bound.
                var boundLeft = _options.TranscriptTimeout - TimeProvider.GetElapsedTime(_stoppedAt);
                StartTimer(boundLeft > _options.QuietTime ? boundLeft : _options.QuietTime);
            }
        }
        else if (!_userSpeaking && _finals.Count > 0)
        {
            StartTimer(_options.QuietTime); // no VAD: the turn ends after a quiet time
        }

        // The transcript goes on before the turn's request, and after its timer was armed.
        await PushFrameAsync(transcription, direction, CancellationToken.None).ConfigureAwait(false);
        if (interrupt)
            await InterruptAsync().ConfigureAwait(false);
        if (endNow)
            await EndTurnAsync().ConfigureAwait(false);
    }

    private async ValueTask EndTurnAsync()
    {
        CancelTimer();
        _stopPending = false;
        var finals = _finals.ToArray();
        _finals.Clear();
        var deferred = _interruptDeferred;
        _interruptDeferred = false;
        var start = _speechStart;
        var end = _speechEnd;
        _speechStart = null;
        _speechEnd = null;
        _speechText = string.Empty;
        var text = string.Join(' ', finals);
        if (text.Length == 0)
        {
            TurnClosed?.Invoke(false);
            return; // an empty turn gets no reply
        }
        if (deferred)
        {
            if (!ShouldInterrupt(text))
            {
                TurnClosed?.Invoke(false);
                return; // a backchannel while the bot spoke ("uh-huh"): no turn
            }
            await InterruptAsync().ConfigureAwait(false);
        }

        var message = new ChatMessage(ChatRole.User, text);
        _context.AddMessage(message);
        _lastTurn = new OpenTurn(message, finals, start);
        TurnEnded?.Invoke(this, new UserTurnEventArgs(text, start, end));
        TurnClosed?.Invoke(true);
        await PushFrameAsync(new LlmContextFrame(_context), FrameDirection.Downstream, CancellationToken.None).ConfigureAwait(false);
    }

    private async ValueTask InterruptAsync()
    {
        _interruptDeferred = false;
        await PushFrameAsync(new InterruptionFrame(), FrameDirection.Downstream, CancellationToken.None).ConfigureAwait(false);
    }

    private bool ShouldInterrupt(string text)
    {
        foreach (var strategy in _options.InterruptionStrategies)
        {
            if (strategy.ShouldInterrupt(text))
                return true;
        }
        return false;
    }

    private void StartTimer(TimeSpan due)
    {
        CancelTimer();
        var generation = ++_timerGeneration;
        _timer = TimeProvider.CreateTimer(static state => ((TimerState)state!).Fire(), new TimerState(this, generation), due, Timeout.InfiniteTimeSpan);
    }

    private void CancelTimer()
    {
        _timerGeneration++;
        _timer?.Dispose();
        _timer = null;
    }

    private async Task OnTimerAsync(long generation)
    {
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (generation != _timerGeneration || _userSpeaking)
                return;
            await EndTurnAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A timer callback has no caller to throw to.
        catch (Exception)
#pragma warning restore CA1031
        {
            // Pushing to a pipeline that is gone: nothing to answer any more.
        }
        finally
        {
            _gate.Release();
        }
    }

    private static string Join(string a, string b) => a.Length == 0 ? b.Trim() : b.Length == 0 ? a : a + " " + b.Trim();

    private sealed record OpenTurn(ChatMessage Message, string[] Finals, TimeSpan? Start);

    private sealed class TimerState(LlmUserAggregator owner, long generation)
    {
        public void Fire() => _ = owner.OnTimerAsync(generation);
    }
}

/// <summary>A user turn that ended with text.</summary>
/// <param name="text">Everything the user said in the turn.</param>
/// <param name="speechStart">Where the speech began in the input (audio time), when a VAD or the STT said.</param>
/// <param name="speechEnd">Where the speech ended in the input (audio time), when a VAD or the STT said.</param>
public sealed class UserTurnEventArgs(string text, TimeSpan? speechStart, TimeSpan? speechEnd) : EventArgs
{
    /// <summary>Gets everything the user said in the turn.</summary>
    public string Text { get; } = text;

    /// <summary>Gets where the speech began in the input, when known.</summary>
    public TimeSpan? SpeechStart { get; } = speechStart;

    /// <summary>Gets where the speech ended in the input, when known.</summary>
    public TimeSpan? SpeechEnd { get; } = speechEnd;
}

/// <summary>Settings of an <see cref="LlmUserAggregator"/>.</summary>
public sealed class LlmUserAggregatorOptions
{
    /// <summary>Gets or sets how long after the <see cref="UserStoppedSpeakingFrame"/> a late final transcript is waited for (default 1 s).</summary>
    public TimeSpan TranscriptTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the quiet time that ends a turn of transcripts that came without a VAD (default 0.5 s).</summary>
    public TimeSpan QuietTime { get; set; } = TimeSpan.FromSeconds(0.5);

    /// <summary>Gets or sets whether the user starting to speak interrupts the bot (default true; the pipeline must allow interruptions).</summary>
    public bool InterruptOnSpeech { get; set; } = true;

    /// <summary>Gets the strategies that decide whether speech while the bot speaks interrupts it; empty interrupts at once.</summary>
    public IList<IInterruptionStrategy> InterruptionStrategies { get; init; } = [];

    /// <summary>Creates a copy.</summary>
    public LlmUserAggregatorOptions Clone() => new()
    {
        TranscriptTimeout = TranscriptTimeout,
        QuietTime = QuietTime,
        InterruptOnSpeech = InterruptOnSpeech,
        InterruptionStrategies = [.. InterruptionStrategies],
    };
}
