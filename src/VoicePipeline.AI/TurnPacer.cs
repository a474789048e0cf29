using VoicePipeline.Frames;
using VoicePipeline.Processors;

namespace VoicePipeline.AI;

/// <summary>
/// Paces an input that comes faster than real time (a file played as fast as possible) by the conversation: after each
/// <see cref="UserStoppedSpeakingFrame"/> it holds the input until that turn is settled, so the next speech reaches the
/// conversation only once the turn was answered, as it would in a live conversation with pauses long enough.
/// Placed right after the VAD; made by <see cref="LlmContextAggregatorPair.CreateTurnPacer"/>.
/// </summary>
/// <remarks>
/// <para>A turn is settled when the user aggregator closed it without a reply (nothing said, or the transcript's bound
/// passed), or when its reply is over: the last response (after any function calls) ended once its audio was played
/// out, or the reply was interrupted. <see cref="TurnPacerOptions.MaxHold"/> bounds the wait, so an answer that never
/// comes cannot stall the input.</para>
/// <para>So a reply is never cut by the next speech: where a live user would have spoken over a long reply, the paced
/// run lets it finish (and a recording of the bot on the input's timeline runs that much longer).</para>
/// <para>The input skips waiting, not events: everything downstream (audio, speaking frames, the end) is held and then
/// released in order, so the frames after the pacer see the same sequence as in real time; frames going upstream,
/// and a <see cref="CancelFrame"/>, always pass at once.</para>
/// </remarks>
public sealed class TurnPacer : FrameProcessor
{
    private const int Idle = 0;
    private const int AwaitingTurn = 1;
    private const int AwaitingReply = 2;

    private readonly TurnPacerOptions _options;
    private readonly Queue<Frame> _held = new(); // the input loop's only
    private bool _holding; // the input loop's only
    private int _phase;
    private long _generation;
    private ITimer? _bound;

    internal TurnPacer(LlmUserAggregator user, LlmAssistantAggregator assistant, TurnPacerOptions? options, string? name)
        : base(name)
    {
        _options = options?.Clone() ?? new TurnPacerOptions();
        user.TurnClosed += OnTurnClosed;
        assistant.ReplyFinished += OnReplyFinished;
    }

    /// <summary>Gets whether the input is held, waiting for the turn to settle.</summary>
    public bool IsHolding => Volatile.Read(ref _phase) != Idle;

    /// <summary>Downstream data and control frames ride the input loop with the audio, so all are held and released in one order.</summary>
    public override ValueTask QueueFrameAsync(Frame frame, FrameDirection direction = FrameDirection.Downstream, CancellationToken cancellationToken = default)
        => direction == FrameDirection.Downstream && frame is not SystemFrame
            ? base.QueueFrameAsync(new InOrder(frame), direction, cancellationToken)
            : base.QueueFrameAsync(frame, direction, cancellationToken);

    /// <inheritdoc />
    protected override async ValueTask ProcessSystemFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        switch (frame)
        {
            case Settled settled:
                if (settled.Generation == Interlocked.Read(ref _generation))
                    await ReleaseAsync().ConfigureAwait(false);
                break;
            case InOrder inOrder:
                await TakeAsync(inOrder.Frame).ConfigureAwait(false);
                break;
            case InterruptionFrame:
                await PushFrameAsync(frame, direction, CancellationToken.None).ConfigureAwait(false);
                break;
            default:
                if (direction == FrameDirection.Upstream)
                    await PushFrameAsync(frame, direction, CancellationToken.None).ConfigureAwait(false);
                else
                    await TakeAsync(frame).ConfigureAwait(false);
                break;
        }
    }

    /// <inheritdoc />
    protected override ValueTask DisposeAsyncCore()
    {
        _bound?.Dispose();
        return ValueTask.CompletedTask;
    }

    private ValueTask TakeAsync(Frame frame)
    {
        if (_holding)
        {
            _held.Enqueue(frame);
            return ValueTask.CompletedTask;
        }
        return PassAsync(frame);
    }

    private async ValueTask PassAsync(Frame frame)
    {
        if (frame is UserStoppedSpeakingFrame)
        {
            // Armed before the frame goes on, so the turn cannot close unseen.
            _holding = true;
            var generation = Interlocked.Increment(ref _generation);
            Volatile.Write(ref _phase, AwaitingTurn);
            _bound?.Dispose();
            _bound = TimeProvider.CreateTimer(static s => ((BoundState)s!).Fire(), new BoundState(this, generation), _options.MaxHold, Timeout.InfiniteTimeSpan);
        }
        await PushFrameAsync(frame, FrameDirection.Downstream, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Lets the held input go on, until the next end of speech among it.</summary>
    private async ValueTask ReleaseAsync()
    {
        if (!_holding)
            return;
        _holding = false;
        _bound?.Dispose();
        _bound = null;
        while (!_holding && _held.TryDequeue(out var frame))
            await PassAsync(frame).ConfigureAwait(false);
    }

    private void OnTurnClosed(bool replied)
    {
        if (Interlocked.CompareExchange(ref _phase, replied ? AwaitingReply : Idle, AwaitingTurn) == AwaitingTurn && !replied)
            Wake(Interlocked.Read(ref _generation));
    }

    private void OnReplyFinished()
    {
        if (Interlocked.CompareExchange(ref _phase, Idle, AwaitingReply) == AwaitingReply)
            Wake(Interlocked.Read(ref _generation));
    }

    private void OnBound(long generation)
    {
        if (generation == Interlocked.Read(ref _generation) && Interlocked.Exchange(ref _phase, Idle) != Idle)
            Wake(generation);
    }

    /// <summary>The release runs on the input loop, in order with the frames being held.</summary>
    private void Wake(long generation) => _ = QueueFrameAsync(new Settled(generation), FrameDirection.Downstream);

    /// <summary>A frame riding the input loop in arrival order.</summary>
    private sealed class InOrder(Frame frame) : SystemFrame
    {
        public Frame Frame { get; } = frame;
    }

    /// <summary>The turn of <see cref="Generation"/> is settled.</summary>
    private sealed class Settled(long generation) : SystemFrame
    {
        public long Generation { get; } = generation;
    }

    private sealed class BoundState(TurnPacer owner, long generation)
    {
        public void Fire() => owner.OnBound(generation);
    }
}

/// <summary>Settings of a <see cref="TurnPacer"/>.</summary>
public sealed class TurnPacerOptions
{
    /// <summary>Gets or sets the longest the input is held for one turn (default 60 s), by the pipeline's clock.</summary>
    public TimeSpan MaxHold { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Creates a copy.</summary>
    public TurnPacerOptions Clone() => (TurnPacerOptions)MemberwiseClone();
}
