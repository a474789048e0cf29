using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using VoicePipeline.Audio;
using VoicePipeline.Frames;

namespace VoicePipeline.Services;

/// <summary>
/// Base of the streaming speech-to-text processors (a provider session that takes audio as it comes and transcribes
/// on commit). Audio is converted to the provider's rate and mono, sent as it arrives (or gathered into sends of
/// <see cref="RealtimeSttOptions.AppendInterval"/>) and kept until transcribed; every
/// <see cref="UserStoppedSpeakingFrame"/> commits the utterance. A dropped session is reconnected (Polly: exponential
/// backoff with jitter on the pipeline's clock) and every utterance not yet transcribed is replayed, so none of it is
/// lost. Settings that a session can take live are sent at once; the others open a new session between turns. An idle
/// session is kept alive with silence. An <see cref="EndFrame"/> commits pending speech and waits, bounded by progress,
/// for its transcript. A provider implements <see cref="ConnectAsync"/> and the <see cref="IRealtimeSttSession"/>.
/// </summary>
/// <remarks>
/// The audio arrives on the input loop, transcripts on the session's receive task, settings on the process loop and
/// keep-alives on a timer: the replay buffer and the queue of pending utterances they share are guarded by one lock.
/// </remarks>
public abstract partial class RealtimeSttService : SttService
{
    private readonly RealtimeSttOptions _options;
    private readonly Lock _gate = new();
    private readonly Queue<SpeechTurn> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private short[] _replay;
    private int _replayCount;
    private long _replayStart;   // absolute position (samples since the stream began) of _replay[0]
    private long _appended;      // absolute position of the next sample
    private long _sent;          // absolute position of the first sample not yet handed to the live session
    private readonly int _appendSamples;
    private IRealtimeSttSession? _live;
    private Task? _closing;
    private volatile bool _stopping;
    private volatile bool _failed;
    private volatile bool _reconnectRequested;
    private bool _newSessionWanted;
    private MonoConverter? _converter;
    private int _converterRate;
    private int _converterChannels;
    private bool _speaking;
    private TimeSpan? _speechStart;
    private long _lastSend;
    private long _completedTurns;
    private string _lastDrop = "?";
    private Task? _supervisor;
    private ITimer? _keepAlive;
    private ITimer? _watchdog;
    private CancellationTokenSource? _sessionStop; // ends the live session's receive loop when it stalls
    private long _lastEvent;                       // when the live session last sent anything
    private TaskCompletionSource _drained = NewSignal(completed: true);
    private ResiliencePipeline? _connect;
    private ResiliencePipeline<SessionEnd>? _sessions;

    /// <summary>Initializes the service.</summary>
    /// <param name="settings">The initial settings.</param>
    /// <param name="sampleRate">The rate the provider takes audio at (PCM s16 mono).</param>
    /// <param name="options">Reconnect, replay, keep-alive and end-of-stream settings.</param>
    /// <param name="userId">The user id put on transcription frames.</param>
    /// <param name="name">The processor's name.</param>
    protected RealtimeSttService(SttSettings settings, int sampleRate, RealtimeSttOptions? options = null, string userId = "user", string? name = null)
        : base(settings, userId, name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleRate, 8000);
        SampleRate = sampleRate;
        _options = (options?.Clone() ?? new RealtimeSttOptions()).Validate();
        _replay = new short[sampleRate * 4];
        _appendSamples = (int)(_options.AppendInterval.TotalSeconds * sampleRate);
    }

    /// <summary>Gets the rate the provider takes audio at.</summary>
    public int SampleRate { get; }

    /// <summary>Gets whether a session is up and audio goes straight to the provider.</summary>
    public bool IsConnected => Volatile.Read(ref _live) is not null;

    /// <summary>Gets the session in use, if one is up.</summary>
    protected IRealtimeSttSession? Session => Volatile.Read(ref _live);

    /// <summary>Gets whether the provider failed for good (a fatal error went upstream); audio is no longer sent.</summary>
    protected bool IsFailed => _failed;

    /// <summary>Opens a session with <paramref name="settings"/>, applying the live ones (language, prompt) before returning it.</summary>
    /// <exception cref="Exception">Any failure; <see cref="DescribeFailure"/> says whether another attempt can help.</exception>
    protected abstract Task<IRealtimeSttSession> ConnectAsync(SttSettings settings, CancellationToken cancellationToken);

    /// <summary>Gets whether a change needs a new session (by default only a model change does).</summary>
    protected virtual bool RequiresNewSession(SettingChange change) => change.Name == nameof(SttSettings.Model);

    /// <summary>Describes a connection failure: its message, category, and whether retrying can help.</summary>
    protected virtual ServiceFailure DescribeFailure(Exception exception) => ServiceFailure.Describe(exception);

    /// <summary>Reports a permanent failure (a fatal <see cref="ErrorFrame"/>) and stops sending audio.</summary>
    protected async ValueTask FailAsync(ServiceFailure failure, Exception? exception = null, CancellationToken cancellationToken = default)
    {
        _failed = true;
        await PushFailureAsync(failure, exception, fatal: true, cancellationToken).ConfigureAwait(false);
        lock (_gate)
            _drained.TrySetResult();
    }

    /// <inheritdoc />
    protected override ValueTask OnStartAsync(StartFrame frame, CancellationToken cancellationToken)
    {
        if (_failed)
            return ValueTask.CompletedTask;
        // One attempt is no retry at all (Polly's retry takes at least one).
        _connect = _options.MaxConnectAttempts == 1 ? ResiliencePipeline.Empty : new ResiliencePipelineBuilder { TimeProvider = TimeProvider }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not OperationCanceledException && !DescribeFailure(e).IsPermanent),
                MaxRetryAttempts = _options.MaxConnectAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.ReconnectBaseDelay,
                MaxDelay = _options.ReconnectMaxDelay,
                OnRetry = args =>
                {
                    Log.Retrying(Logger, Name, args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception?.Message ?? "?");
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        _sessions = new ResiliencePipelineBuilder<SessionEnd> { TimeProvider = TimeProvider }
            .AddRetry(new RetryStrategyOptions<SessionEnd>
            {
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Result == SessionEnd.Dropped),
                MaxRetryAttempts = _options.MaxConnectAttempts * 3,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.ReconnectBaseDelay,
                MaxDelay = _options.ReconnectMaxDelay,
                DelayGenerator = static args => ValueTask.FromResult<TimeSpan?>(args.AttemptNumber == 0 ? TimeSpan.Zero : null), // the first drop reconnects at once
                OnRetry = args =>
                {
                    Log.Dropped(Logger, Name, _lastDrop, args.AttemptNumber + 1, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        _lastSend = TimeProvider.GetTimestamp();
        _keepAlive = TimeProvider.CreateTimer(static s => ((RealtimeSttService)s!).KeepAlive(), this, _options.KeepAliveInterval, _options.KeepAliveInterval);
        if (_options.StallTimeout != Timeout.InfiniteTimeSpan)
        {
            var period = _options.StallTimeout / 4;
            _watchdog = TimeProvider.CreateTimer(static s => ((RealtimeSttService)s!).Watch(), this, period, period);
        }
        _supervisor = Task.Run(() => SuperviseAsync(_stop.Token), CancellationToken.None);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override ValueTask OnAudioAsync(InputAudioRawFrame audio, CancellationToken cancellationToken)
    {
        if (!_failed)
            Append(audio);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override ValueTask OnSpeechStartedAsync(UserStartedSpeakingFrame frame, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(frame);
        lock (_gate)
            (_speaking, _speechStart) = (true, frame.SpeechStart);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override ValueTask OnSpeechStoppedAsync(UserStoppedSpeakingFrame frame, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (!_failed)
            Commit(frame.SpeechEnd, frame.StopSecs);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override ValueTask OnSettingsChangedAsync(IReadOnlyList<SettingChange> changes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(changes);
        lock (_gate)
        {
            var live = false;
            foreach (var change in changes)
            {
                if (RequiresNewSession(change))
                    _newSessionWanted = true;
                else
                    live = true;
            }
            if (live && _live is { } session)
            {
                Flush(session); // the audio before the change is the old settings'
                session.Update(Settings);
            }
            ReconnectIfIdle();
        }
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override async ValueTask OnEndAsync(EndFrame frame, CancellationToken cancellationToken)
    {
        if (_supervisor is null)
            return;
        bool speaking;
        lock (_gate)
            speaking = _speaking;
        if (speaking && !_failed)
            Commit(TimeSpan.FromSeconds((double)Volatile.Read(ref _appended) / SampleRate), 0);
        // Bounded by progress, not total time: a slow server that keeps delivering finals is waited for; one that
        // goes quiet for FinalTranscriptTimeout is given up on.
        while (true)
        {
            Task drained;
            long progress;
            lock (_gate)
                (drained, progress) = (_drained.Task, _completedTurns);
            try
            {
                await drained.WaitAsync(_options.FinalTranscriptTimeout, TimeProvider, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (TimeoutException)
            {
                if (Volatile.Read(ref _completedTurns) != progress)
                    continue;
                Log.FinalTimeout(Logger, Name, _options.FinalTranscriptTimeout);
                await PushErrorAsync($"No final transcript within {_options.FinalTranscriptTimeout.TotalSeconds:0.#} s of the end of the stream.",
                    category: ErrorCategory.Connectivity, cancellationToken: cancellationToken).ConfigureAwait(false);
                break;
            }
        }
        await StopAsync(gracefully: true).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override ValueTask OnCancelAsync(CancelFrame frame, CancellationToken cancellationToken) => new(StopAsync(gracefully: false));

    /// <inheritdoc />
    public override async ValueTask CleanupAsync(CancellationToken cancellationToken = default)
    {
        await StopAsync(gracefully: false).ConfigureAwait(false);
        await base.CleanupAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Converts, remembers and sends one audio frame (the append path: no allocation in the steady state).</summary>
    protected void Append(InputAudioRawFrame audio)
    {
        ArgumentNullException.ThrowIfNull(audio);
        var samples = MemoryMarshal.Cast<byte, short>(audio.Audio.Span);
        if (audio.SampleRate != SampleRate || audio.Channels != 1)
        {
            if (_converter is null || _converterRate != audio.SampleRate || _converterChannels != audio.Channels)
                (_converter, _converterRate, _converterChannels) = (new MonoConverter(audio.SampleRate, audio.Channels, SampleRate), audio.SampleRate, audio.Channels);
            samples = _converter.Convert(samples);
        }
        lock (_gate)
        {
            Remember(samples);
            if (_live is { } session && _appended - _sent >= _appendSamples)
                Flush(session);
        }
    }

    /// <summary>Hands the audio not yet sent to <paramref name="session"/> (caller holds the lock).</summary>
    private void Flush(IRealtimeSttSession session)
    {
        var from = (int)Math.Clamp(_sent - _replayStart, 0, _replayCount);
        if (from < _replayCount)
        {
            session.Append(_replay.AsSpan(from, _replayCount - from));
            _lastSend = TimeProvider.GetTimestamp();
        }
        _sent = _appended;
    }

    private void Commit(TimeSpan speechEnd, double stopSecs)
    {
        lock (_gate)
        {
            _pending.Enqueue(new SpeechTurn(_appended, _speechStart, speechEnd, TimeProvider.GetTimestamp(), stopSecs));
            if (_drained.Task.IsCompleted)
                _drained = NewSignal(completed: false);
            if (_live is { } session)
            {
                Flush(session);
                session.Commit();
            }
            (_speaking, _speechStart) = (false, null);
        }
        StartTtfbMetrics();
    }

    private async Task StopAsync(bool gracefully)
    {
        _stopping = true; // before closing: the close must not look like a drop to the supervisor
        _keepAlive?.Dispose();
        _watchdog?.Dispose();
        IRealtimeSttSession? live;
        lock (_gate)
        {
            (live, _live) = (_live, null);
            if (live is not null && gracefully)
                Flush(live);
        }
        if (live is not null && gracefully)
            await live.CloseAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_supervisor is not null)
            await _supervisor.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>A new session is needed: opened only between turns (caller holds the lock).</summary>
    private void ReconnectIfIdle()
    {
        if (!_newSessionWanted || _speaking || _pending.Count > 0)
            return;
        _newSessionWanted = false;
        Log.Renewing(Logger, Name, Settings.Model ?? "?");
        if (_live is { } session)
        {
            // Close after what is queued (a live settings update, say) went out; the receive side sees the close and
            // the supervisor connects again with the new settings.
            _reconnectRequested = true;
            _live = null;
            _closing = session.CloseAsync(TimeSpan.FromSeconds(2));
        }
    }

    private void KeepAlive()
    {
        lock (_gate)
        {
            if (_live is not { } session || TimeProvider.GetElapsedTime(_lastSend) < _options.KeepAliveInterval)
                return;
            Span<short> silence = stackalloc short[SampleRate / 10];
            silence.Clear();
            Remember(silence);
            Flush(session);
        }
    }

    /// <summary>
    /// Replaces a live session that sent nothing for <see cref="RealtimeSttOptions.StallTimeout"/> while an utterance
    /// waits for its transcript: a server that keeps the socket open but stopped answering is no better than a drop.
    /// </summary>
    private void Watch()
    {
        CancellationTokenSource? stalled = null;
        lock (_gate)
        {
            if (_live is not null && _sessionStop is { } sessionStop && _pending.TryPeek(out var oldest))
            {
                var since = Math.Max(oldest.StopTimestamp, Volatile.Read(ref _lastEvent));
                if (TimeProvider.GetElapsedTime(since) >= _options.StallTimeout)
                {
                    _lastDrop = $"no answer within {_options.StallTimeout.TotalSeconds:0.#} s of a commit: the server stalled";
                    stalled = sessionStop;
                }
            }
        }
        stalled?.Cancel(); // outside the lock: the receive loop ends and the supervisor reconnects and replays
    }

    /// <summary>Keeps audio until it is transcribed (caller holds the lock).</summary>
    private void Remember(ReadOnlySpan<short> samples)
    {
        // Between turns only a short pre-roll is worth replaying; trimmed in one go once it doubles (amortized).
        var preroll = SampleRate * 2;
        if (!_speaking && _pending.Count == 0 && _replayCount > 2 * preroll)
            Forget(_replayStart + _replayCount - preroll); // a live session was sent all but the last AppendInterval (< 1 s)
        if (_replayCount + samples.Length > _replay.Length)
        {
            var max = Math.Max((int)(_options.MaxReplay.TotalSeconds * SampleRate), 4 * samples.Length);
            var needed = Math.Min(Math.Max(_replay.Length * 2, _replayCount + samples.Length), max);
            if (needed > _replay.Length)
                Array.Resize(ref _replay, needed);
            if (_replayCount + samples.Length > _replay.Length)
            {
                // Over the bound: drop the oldest quarter at once rather than a frame at a time.
                Log.ReplayOverflow(Logger, Name, _options.MaxReplay);
                Forget(_replayStart + Math.Max(_replay.Length / 4, _replayCount + samples.Length - _replay.Length));
            }
        }
        samples.CopyTo(_replay.AsSpan(_replayCount));
        _replayCount += samples.Length;
        _appended += samples.Length;
    }

    /// <summary>Forgets audio up to <paramref name="position"/> once transcribed (caller holds the lock).</summary>
    private void Forget(long position)
    {
        var drop = (int)Math.Clamp(position - _replayStart, 0, _replayCount);
        _replay.AsSpan(drop, _replayCount - drop).CopyTo(_replay);
        _replayCount -= drop;
        _replayStart += drop;
    }

    /// <summary>Resends the untranscribed audio with a commit at each pending turn's end (caller holds the lock).</summary>
    private void Replay(IRealtimeSttSession session)
    {
        var position = 0;
        foreach (var turn in _pending)
        {
            var end = (int)Math.Clamp(turn.EndPosition - _replayStart, 0, _replayCount);
            session.Append(_replay.AsSpan(position, end - position));
            session.Commit();
            position = end;
        }
        session.Append(_replay.AsSpan(position, _replayCount - position));
        _lastSend = TimeProvider.GetTimestamp();
        _sent = _appended;
    }

    private async Task SuperviseAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested && !_stopping)
        {
            SessionEnd end;
            try
            {
                end = await _sessions!.ExecuteAsync(RunSessionAsync, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            if (end == SessionEnd.Reconnect)
                continue;
            if (end == SessionEnd.DroppedWhenHealthy && !_stopping)
            {
                Log.Dropped(Logger, Name, _lastDrop, 1, TimeSpan.Zero); // a new run of the pipeline: the drop count starts again
                continue;
            }
            if (end == SessionEnd.Dropped && !_stopping)
                await FailAsync(new ServiceFailure("The realtime connection keeps dropping; giving up.", ErrorCategory.Connectivity, true), cancellationToken: CancellationToken.None).ConfigureAwait(false);
            return;
        }
    }

    private async ValueTask<SessionEnd> RunSessionAsync(CancellationToken stop)
    {
        IRealtimeSttSession session;
        var settings = Settings;
        try
        {
            session = await _connect!.ExecuteAsync(async token => await ConnectAsync(settings, token).ConfigureAwait(false), stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return SessionEnd.Stopped;
        }
#pragma warning disable CA1031 // Any connection failure is reported as a fatal error frame.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            var failure = DescribeFailure(exception);
            Log.GaveUp(Logger, Name, failure.Message);
            await FailAsync(failure, exception, CancellationToken.None).ConfigureAwait(false);
            return SessionEnd.Failed;
        }

        int replayed;
        long connectedAt;
        using var sessionStop = CancellationTokenSource.CreateLinkedTokenSource(stop);
        lock (_gate)
        {
            connectedAt = TimeProvider.GetTimestamp(); // before the session gets any audio: it counts from here
            if (!ReferenceEquals(settings, Settings))
                session.Update(Settings); // changed while connecting
            Replay(session);
            replayed = _replayCount;
            _reconnectRequested = false;
            _live = session;
            _sessionStop = sessionStop;
            Volatile.Write(ref _lastEvent, connectedAt);
        }
        Log.Connected(Logger, Name, Settings.Model ?? "?", replayed);

        await ReceiveEventsAsync(session, sessionStop.Token).ConfigureAwait(false);
        lock (_gate)
        {
            if (ReferenceEquals(_live, session))
                _live = null;
            _sessionStop = null;
        }
        if (Interlocked.Exchange(ref _closing, null) is { } closing)
            await closing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await session.DisposeAsync().ConfigureAwait(false);
        return stop.IsCancellationRequested || _stopping ? SessionEnd.Stopped
            : _reconnectRequested ? SessionEnd.Reconnect
            : TimeProvider.GetElapsedTime(connectedAt) >= _options.DropCountResetAfter ? SessionEnd.DroppedWhenHealthy
            : SessionEnd.Dropped;
    }

    private async Task ReceiveEventsAsync(IRealtimeSttSession session, CancellationToken cancellationToken)
    {
        while (true)
        {
            RealtimeSttEvent message;
            try
            {
                message = await session.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            Volatile.Write(ref _lastEvent, TimeProvider.GetTimestamp());
            switch (message.Kind)
            {
                case RealtimeSttEventKind.Closed:
                    _lastDrop = message.Message ?? "closed";
                    return;
                case RealtimeSttEventKind.Interim when !string.IsNullOrEmpty(message.Text):
                    TimeSpan? segmentStart;
                    lock (_gate)
                        segmentStart = _pending.TryPeek(out var oldest) ? oldest.SpeechStart : _speechStart; // the segment being transcribed
                    await PushInterimAsync(message.Text, message.Language, segmentStart, CancellationToken.None).ConfigureAwait(false);
                    break;
                case RealtimeSttEventKind.Final:
                    await PushFinalAsync(message.Text, message.Language, CompleteTurn(), CancellationToken.None).ConfigureAwait(false);
                    break;
                case RealtimeSttEventKind.TurnFailed:
                    CompleteTurn();
                    await PushErrorAsync(message.Message ?? "Transcription of a turn failed.", category: message.Category, cancellationToken: CancellationToken.None).ConfigureAwait(false);
                    break;
                case RealtimeSttEventKind.Error:
                    await PushErrorAsync(message.Message ?? "Error.", category: message.Category, cancellationToken: CancellationToken.None).ConfigureAwait(false);
                    break;
                case RealtimeSttEventKind.SessionFailed:
                    await PushErrorAsync(message.Message ?? "The session failed.", category: message.Category, cancellationToken: CancellationToken.None).ConfigureAwait(false);
                    _lastDrop = "the server ended the session";
                    return;
            }
        }
    }

    /// <summary>The oldest pending turn got its transcript (or failed): forget its audio.</summary>
    private SpeechTurn? CompleteTurn()
    {
        lock (_gate)
        {
            var turn = _pending.TryDequeue(out var t) ? t : null;
            _completedTurns++;
            if (turn is not null)
                Forget(turn.EndPosition);
            if (_pending.Count == 0)
                _drained.TrySetResult();
            ReconnectIfIdle();
            return turn;
        }
    }

    private static TaskCompletionSource NewSignal(bool completed)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
            signal.SetResult();
        return signal;
    }

    private enum SessionEnd
    {
        Stopped,
        Reconnect,
        Dropped,
        DroppedWhenHealthy,
        Failed,
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 710, Level = LogLevel.Information, Message = "{Service}: connected ({Model}); replaying {Samples} samples")]
        public static partial void Connected(ILogger logger, string service, string model, int samples);

        [LoggerMessage(EventId = 711, Level = LogLevel.Warning, Message = "{Service}: connection attempt {Attempt} in {Delay}: {Reason}")]
        public static partial void Retrying(ILogger logger, string service, int attempt, TimeSpan delay, string reason);

        [LoggerMessage(EventId = 712, Level = LogLevel.Warning, Message = "{Service}: the session dropped ({Reason}); reconnecting (drop {Drops}) in {Delay}")]
        public static partial void Dropped(ILogger logger, string service, string reason, int drops, TimeSpan delay);

        [LoggerMessage(EventId = 713, Level = LogLevel.Error, Message = "{Service}: giving up: {Reason}")]
        public static partial void GaveUp(ILogger logger, string service, string reason);

        [LoggerMessage(EventId = 714, Level = LogLevel.Information, Message = "{Service}: opening a new session ({Model}) between turns")]
        public static partial void Renewing(ILogger logger, string service, string model);

        [LoggerMessage(EventId = 715, Level = LogLevel.Warning, Message = "{Service}: more than {Limit} of untranscribed audio: the oldest is no longer kept for replay")]
        public static partial void ReplayOverflow(ILogger logger, string service, TimeSpan limit);

        [LoggerMessage(EventId = 716, Level = LogLevel.Warning, Message = "{Service}: no final transcript within {Timeout} of the end of the stream")]
        public static partial void FinalTimeout(ILogger logger, string service, TimeSpan timeout);
    }
}
