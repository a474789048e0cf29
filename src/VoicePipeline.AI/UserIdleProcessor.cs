using VoicePipeline.Frames;
using VoicePipeline.Processors;

namespace VoicePipeline.AI;

/// <summary>
/// Calls back when the user has been silent for <see cref="Timeout"/> while the bot is not speaking (Pipecat's
/// <c>UserIdleProcessor</c>): the callback gets the number of times in a row the user stayed silent (1, 2, ...) and can
/// push a prompt (<see cref="PushAsync"/> an <see cref="LlmMessagesAppendFrame"/> or a <see cref="TtsSpeakFrame"/>) or
/// end the call; it returns whether to keep watching. Watching starts with the conversation (the first time the user or
/// the bot stops speaking), pauses while either speaks, and the count starts again when the user speaks.
/// Place it after the VAD (it sees user speech downstream and the output transport's bot-speaking frames upstream).
/// </summary>
public sealed class UserIdleProcessor : FrameProcessor
{
    private readonly Func<UserIdleProcessor, int, CancellationToken, ValueTask<bool>> _onIdle;
    private readonly Lock _gate = new();
    private ITimer? _timer;
    private long _generation;
    private bool _userSpeaking;
    private bool _botSpeaking;
    private bool _watching;
    private bool _stopped;
    private int _retries;

    /// <summary>Creates the processor.</summary>
    /// <param name="onIdle">Called with this processor and the retry count (1 the first time); returns whether to keep watching.</param>
    /// <param name="timeout">How long a silence counts as idle.</param>
    /// <param name="name">A name for logs.</param>
    public UserIdleProcessor(Func<UserIdleProcessor, int, CancellationToken, ValueTask<bool>> onIdle, TimeSpan timeout, string? name = null)
        : base(name)
    {
        _onIdle = onIdle ?? throw new ArgumentNullException(nameof(onIdle));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        Timeout = timeout;
    }

    /// <summary>Gets how long a silence counts as idle.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Gets how many times in a row the user stayed silent so far.</summary>
    public int RetryCount
    {
        get { lock (_gate) return _retries; }
    }

    /// <summary>Pushes a frame from the idle callback (a prompt, a goodbye, an <see cref="EndFrame"/>).</summary>
    public ValueTask PushAsync(Frame frame, FrameDirection direction = FrameDirection.Downstream, CancellationToken cancellationToken = default)
        => PushFrameAsync(frame, direction, cancellationToken);

    /// <inheritdoc />
    protected override ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
        => ObserveAsync(frame, direction, cancellationToken);

    /// <inheritdoc />
    protected override ValueTask ProcessSystemFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
        => ObserveAsync(frame, direction, cancellationToken);

    private ValueTask ObserveAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            switch (frame)
            {
                case UserStartedSpeakingFrame:
                    _userSpeaking = true;
                    _retries = 0;
                    _stopped = false;
                    CancelTimer();
                    break;
                case UserStoppedSpeakingFrame:
                    _userSpeaking = false;
                    _watching = true;
                    Arm();
                    break;
                case TranscriptionFrame when direction == FrameDirection.Downstream:
                    _retries = 0; // a text-only user is active too
                    _stopped = false;
                    _watching = true;
                    Arm();
                    break;
                case BotStartedSpeakingFrame:
                    _botSpeaking = true;
                    CancelTimer();
                    break;
                case BotStoppedSpeakingFrame:
                    _botSpeaking = false;
                    _watching = true;
                    Arm();
                    break;
            }
        }
        return PushFrameAsync(frame, direction, cancellationToken);
    }

    /// <inheritdoc />
    protected override ValueTask OnEndAsync(EndFrame frame, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _stopped = true;
            CancelTimer();
        }
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override ValueTask OnCancelAsync(CancelFrame frame, CancellationToken cancellationToken) => OnEndAsync(new EndFrame(), cancellationToken);

    /// <inheritdoc />
    protected override ValueTask DisposeAsyncCore()
    {
        lock (_gate)
            CancelTimer();
        return ValueTask.CompletedTask;
    }

    private void Arm()
    {
        CancelTimer();
        if (!_watching || _stopped || _userSpeaking || _botSpeaking)
            return;
        var generation = _generation;
        _timer = TimeProvider.CreateTimer(_ => _ = FireAsync(generation), null, Timeout, System.Threading.Timeout.InfiniteTimeSpan);
    }

    private void CancelTimer()
    {
        _generation++;
        _timer?.Dispose();
        _timer = null;
    }

    private async Task FireAsync(long generation)
    {
        int retries;
        lock (_gate)
        {
            if (generation != _generation || _stopped || _userSpeaking || _botSpeaking)
                return;
            retries = ++_retries;
        }
        bool keepWatching;
        try
        {
            keepWatching = await _onIdle(this, retries, CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The callback's failure is reported, never thrown into a timer.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            await PushErrorAsync($"{Name}: the idle callback failed: {exception.Message}", exception, ErrorCategory.Processing).ConfigureAwait(false);
            keepWatching = false;
        }
        lock (_gate)
        {
            if (generation != _generation)
                return; // something happened meanwhile and re-armed (or paused) the watch
            if (keepWatching)
                Arm();
            else
                _stopped = true;
        }
    }
}
