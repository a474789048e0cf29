using System.Buffers;
using System.Buffers.Text;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using VoicePipeline.Audio;
using VoicePipeline.Frames;
using VoicePipeline.Metrics;
using VoicePipeline.Processors;
using VoicePipeline.Together.Client;

namespace VoicePipeline.Together.Realtime;

/// <summary>
/// Together's realtime speech-to-text as a frame processor, placed after a VAD. It streams every
/// <see cref="InputAudioRawFrame"/> (as 16 kHz mono, resampled by the project's resampler when needed), commits the
/// server's buffer on every <see cref="UserStoppedSpeakingFrame"/>, and emits <see cref="InterimTranscriptionFrame"/>s
/// (from <c>delta</c>) and finalized <see cref="TranscriptionFrame"/>s (from <c>completed</c>). It reconnects with
/// jittered backoff after a drop and replays every utterance not yet transcribed, applies settings updates (live when
/// the server can, otherwise with a new connection at the end of the turn), and on an <see cref="EndFrame"/> commits
/// pending speech and waits (bounded) for its transcript.
/// </summary>
public sealed partial class TogetherSttService : FrameProcessor
{
    private const int ModelRate = 16_000;
    private const int MaxAppendSamples = ModelRate; // never more than 1000 ms per append
    private const int PrerollSamples = ModelRate * 2; // audio kept before speech starts, for a replay
    private static readonly byte[] s_appendPrefix = "{\"type\":\"input_audio_buffer.append\",\"audio\":\""u8.ToArray();
    private static readonly byte[] s_appendSuffix = "\"}"u8.ToArray();
    private static readonly byte[] s_commit = "{\"type\":\"input_audio_buffer.commit\"}"u8.ToArray();

    private readonly TogetherSttOptions _options;
    private readonly Lock _gate = new();
    private readonly Queue<PendingTurn> _pending = new();
    private readonly CancellationTokenSource _stop = new();

    // Append buffers are rented on the audio thread and returned by the send loop: a pool of our own avoids the
    // shared pool's per-thread caches, which would miss on every cross-thread return.
    private readonly ArrayPool<byte> _buffers = ArrayPool<byte>.Create(64 * 1024, 256);
    private short[] _replay = new short[ModelRate * 4];
    private int _replayCount;
    private long _replayStart;   // absolute position (16 kHz samples since the stream began) of _replay[0]
    private long _appended;      // absolute position of the next sample
    private RealtimeConnection? _live;
    private volatile bool _stopping;
    private volatile bool _reconnectRequested;
    private MonoConverter? _converter;
    private int _converterRate;
    private int _converterChannels;
    private bool _speaking;
    private TimeSpan? _speechStart;
    private string _model;
    private string? _language;
    private string? _prompt;
    private string? _pendingModel;
    private long _lastSend;
    private bool _failed;
    private long _completedTurns;
    private Task? _supervisor;
    private ITimer? _keepAlive;
    private TaskCompletionSource _drained = NewSignal(completed: true);
    private ResiliencePipeline? _connect;

    /// <summary>Creates the service.</summary>
    public TogetherSttService(TogetherSttOptions? options = null, string? name = null)
        : base(name)
    {
        _options = options?.Clone() ?? new TogetherSttOptions();
        _model = _options.Model;
        _language = _options.Language;
        _prompt = _options.Prompt;
        MetricsModel = _model;
    }

    /// <summary>Gets the model in use.</summary>
    public string Model => _model;

    /// <summary>Gets the language in use, if set.</summary>
    public string? Language => _language;

    /// <summary>Gets whether a connection is up and audio goes straight to the server.</summary>
    public bool IsConnected => Volatile.Read(ref _live) is not null;

    /// <summary>Gets how many messages wait for the socket (benchmarks).</summary>
    internal int PendingSends => Volatile.Read(ref _live)?.PendingSends ?? 0;

    /// <summary>Called with a <see cref="System.Diagnostics.Stopwatch"/> timestamp whenever a commit leaves the socket (benchmarks).</summary>
    internal Action<long>? CommitSent { get; set; }

    /// <inheritdoc />
    protected override async ValueTask OnStartAsync(StartFrame frame, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(_options.ApiKey))
        {
            _failed = true;
            await PushErrorAsync($"No Together API key: set {TogetherClientOptions.ApiKeyEnvironmentVariable} or TogetherSttOptions.ApiKey.",
                category: ErrorCategory.Authentication, fatal: true, cancellationToken: cancellationToken).ConfigureAwait(false);
            return;
        }
        _connect = new ResiliencePipelineBuilder { TimeProvider = TimeProvider }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<TogetherApiException>(e => !e.IsPermanent),
                MaxRetryAttempts = Math.Max(0, _options.MaxConnectAttempts - 1),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.ReconnectBaseDelay,
                MaxDelay = _options.ReconnectMaxDelay,
                OnRetry = args =>
                {
                    Log.Retrying(Logger, args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception?.Message ?? "?");
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        _lastSend = TimeProvider.GetTimestamp();
        _keepAlive = TimeProvider.CreateTimer(static s => ((TogetherSttService)s!).KeepAlive(), this, _options.KeepAliveInterval, _options.KeepAliveInterval);
        _supervisor = Task.Run(() => SuperviseAsync(_stop.Token), CancellationToken.None);
    }

    /// <inheritdoc />
    protected override async ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        if (frame is SttUpdateSettingsFrame update)
            ApplySettings(update);
        await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override async ValueTask ProcessSystemFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        switch (frame)
        {
            case InputAudioRawFrame audio:
                await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
                if (!_failed)
                    AppendAudio(audio);
                break;
            case UserStartedSpeakingFrame started:
                _speaking = true;
                _speechStart = started.SpeechStart;
                await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
                break;
            case UserStoppedSpeakingFrame stopped:
                await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
                if (!_failed)
                    Commit(stopped.SpeechEnd, stopped.StopSecs);
                break;
            default:
                await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    /// <inheritdoc />
    protected override async ValueTask OnEndAsync(EndFrame frame, CancellationToken cancellationToken)
    {
        if (_supervisor is null)
            return;
        if (_speaking && !_failed)
            Commit(TimeSpan.FromSeconds((double)Volatile.Read(ref _appended) / ModelRate), 0);
        // Bounded by progress, not total time: a slow server that keeps delivering finals is waited for; one that
        // goes quiet for FinalTranscriptTimeout is given up on.
        while (true)
        {
            Task drained;
            long progress;
            lock (_gate)
            {
                drained = _drained.Task;
                progress = _completedTurns;
            }
            try
            {
                await drained.WaitAsync(_options.FinalTranscriptTimeout, TimeProvider, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (TimeoutException)
            {
                if (Volatile.Read(ref _completedTurns) != progress)
                    continue;
                Log.FinalTimeout(Logger, _options.FinalTranscriptTimeout);
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

    private async Task StopAsync(bool gracefully)
    {
        _stopping = true; // before closing: the close must not look like a drop to the supervisor
        _keepAlive?.Dispose();
        RealtimeConnection? live;
        lock (_gate)
        {
            live = _live;
            _live = null;
        }
        if (live is not null && gracefully)
            await live.CloseAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_supervisor is not null)
            await _supervisor.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    internal void AppendAudio(InputAudioRawFrame audio)
    {
        var samples = MemoryMarshal.Cast<byte, short>(audio.Audio.Span);
        if (audio.SampleRate != ModelRate || audio.Channels != 1)
        {
            if (_converter is null || _converterRate != audio.SampleRate || _converterChannels != audio.Channels)
            {
                _converter = new MonoConverter(audio.SampleRate, audio.Channels, ModelRate);
                (_converterRate, _converterChannels) = (audio.SampleRate, audio.Channels);
            }
            samples = _converter.Convert(samples);
        }
        lock (_gate)
        {
            Remember(samples);
            if (_live is { } connection)
                SendAppends(connection, samples);
        }
    }

    private void Commit(TimeSpan speechEnd, double stopSecs)
    {
        lock (_gate)
        {
            var turn = new PendingTurn(_appended, _speechStart, speechEnd, TimeProvider.GetTimestamp(), stopSecs);
            _pending.Enqueue(turn);
            if (_drained.Task.IsCompleted)
                _drained = NewSignal(completed: false);
            _live?.Send(new OutgoingMessage(s_commit, s_commit.Length, null, true));
        }
        _speaking = false;
        _speechStart = null;
        StartTtfbMetrics();
    }

    private void ApplySettings(SttUpdateSettingsFrame update)
    {
        lock (_gate)
        {
            var liveChange = false;
            if (update.Language is { } language && language != _language)
                (_language, liveChange) = (language, true);
            if (update.Prompt is { } prompt && prompt != _prompt)
                (_prompt, liveChange) = (prompt, true);
            if (liveChange && _live is { } connection)
                connection.Send(SessionUpdate());
            if (update.Model is { } model && model != _model)
            {
                _pendingModel = model;
                ReconnectIfIdle();
            }
        }
    }

    /// <summary>A model change needs a new connection: made only between turns (caller holds the lock).</summary>
    private void ReconnectIfIdle()
    {
        if (_pendingModel is null || _speaking || _pending.Count > 0)
            return;
        Log.Switching(Logger, _model, _pendingModel);
        _model = _pendingModel;
        MetricsModel = _model;
        _pendingModel = null;
        if (_live is { } connection)
        {
            // Close after what is queued (a live settings update, say) went out; cancelling the receive would abort
            // the socket and lose it. The supervisor sees the close and connects again with the new model.
            _reconnectRequested = true;
            _live = null;
            _ = connection.CloseAsync(TimeSpan.FromSeconds(2));
        }
    }

    private RealtimeEvent SessionUpdate() => new()
    {
        Type = RealtimeEventTypes.SessionUpdate,
        Session = new RealtimeSession { Language = _language, Prompt = _prompt },
    };

    private void KeepAlive()
    {
        lock (_gate)
        {
            if (_live is not { } connection || TimeProvider.GetElapsedTime(_lastSend) < _options.KeepAliveInterval)
                return;
            Span<short> silence = stackalloc short[ModelRate / 10];
            silence.Clear();
            Remember(silence);
            SendAppends(connection, silence);
        }
    }

    /// <summary>Keeps audio until it is transcribed (caller holds the lock).</summary>
    private void Remember(ReadOnlySpan<short> samples)
    {
        // Between turns only a short pre-roll is worth replaying; trimmed in one go once it doubles (amortized).
        if (!_speaking && _pending.Count == 0 && _replayCount > 2 * PrerollSamples)
            Forget(_replayStart + _replayCount - PrerollSamples);
        if (_replayCount + samples.Length > _replay.Length)
        {
            var max = Math.Max((int)(_options.MaxReplay.TotalSeconds * ModelRate), 4 * samples.Length);
            var needed = Math.Min(Math.Max(_replay.Length * 2, _replayCount + samples.Length), max);
            if (needed > _replay.Length)
                Array.Resize(ref _replay, needed);
            if (_replayCount + samples.Length > _replay.Length)
            {
                // Over the bound: drop the oldest quarter at once rather than a frame at a time.
                Log.ReplayOverflow(Logger, _options.MaxReplay);
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

    /// <summary>Sends audio as appends of at most 1000 ms, base64 encoded into pooled buffers (caller holds the lock).</summary>
    private void SendAppends(RealtimeConnection connection, ReadOnlySpan<short> samples)
    {
        while (!samples.IsEmpty)
        {
            var chunk = samples[..Math.Min(samples.Length, MaxAppendSamples)];
            samples = samples[chunk.Length..];
            var pcm = MemoryMarshal.AsBytes(chunk);
            var length = s_appendPrefix.Length + Base64.GetMaxEncodedToUtf8Length(pcm.Length) + s_appendSuffix.Length;
            var buffer = _buffers.Rent(length);
            s_appendPrefix.CopyTo(buffer, 0);
            Base64.EncodeToUtf8(pcm, buffer.AsSpan(s_appendPrefix.Length), out _, out var written);
            s_appendSuffix.CopyTo(buffer, s_appendPrefix.Length + written);
            connection.Send(new OutgoingMessage(buffer, s_appendPrefix.Length + written + s_appendSuffix.Length, _buffers, false));
        }
        _lastSend = TimeProvider.GetTimestamp();
    }

    private async Task SuperviseAsync(CancellationToken stop)
    {
        var drops = 0;
        while (!stop.IsCancellationRequested)
        {
            RealtimeConnection connection;
            try
            {
                connection = await _connect!.ExecuteAsync(
                    async token => await RealtimeConnection.ConnectAsync(_options.BuildUri(_model), _options.ApiKey!, _options.SessionTimeout, CommitSent, token).ConfigureAwait(false),
                    stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (TogetherApiException exception)
            {
                _failed = true;
                Log.GaveUp(Logger, exception.Message);
                await PushErrorAsync(exception.Message, exception, exception.Category, fatal: true, CancellationToken.None).ConfigureAwait(false);
                lock (_gate)
                    _drained.TrySetResult();
                return;
            }

            lock (_gate)
            {
                if (_language is not null || _prompt is not null)
                    connection.Send(SessionUpdate());
                Replay(connection);
                _reconnectRequested = false;
                Volatile.Write(ref _live, connection);
            }
            Log.Connected(Logger, _model, _replayCount);

            var end = await ReceiveEventsAsync(connection, stop).ConfigureAwait(false);
            lock (_gate)
            {
                if (ReferenceEquals(_live, connection))
                    _live = null;
            }
            await connection.DisposeAsync().ConfigureAwait(false);
            if (stop.IsCancellationRequested || _stopping)
                return;
            if (_reconnectRequested)
            {
                drops = 0;
                continue;
            }

            drops++;
            Log.Dropped(Logger, end?.CloseStatus?.ToString() ?? "no close", end?.Description ?? end?.Error?.Message ?? "?", drops);
            if (drops > _options.MaxConnectAttempts * 3)
            {
                _failed = true;
                await PushErrorAsync("The realtime connection keeps dropping; giving up.", category: ErrorCategory.Connectivity, fatal: true, cancellationToken: CancellationToken.None).ConfigureAwait(false);
                lock (_gate)
                    _drained.TrySetResult();
                return;
            }
            if (drops > 1)
            {
                var backoff = TimeSpan.FromTicks(Math.Min(_options.ReconnectMaxDelay.Ticks, _options.ReconnectBaseDelay.Ticks << Math.Min(drops - 2, 10)));
                await Task.Delay(backoff * Random.Shared.NextDouble(), TimeProvider, stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>Resends the untranscribed audio with a commit at each pending turn's end (caller holds the lock).</summary>
    private void Replay(RealtimeConnection connection)
    {
        var position = _replayStart;
        foreach (var turn in _pending)
        {
            var end = (int)Math.Clamp(turn.EndPosition - _replayStart, 0, _replayCount);
            SendAppends(connection, _replay.AsSpan((int)(position - _replayStart), end - (int)(position - _replayStart)));
            connection.Send(new OutgoingMessage(s_commit, s_commit.Length, null, true));
            position = _replayStart + end;
        }
        SendAppends(connection, _replay.AsSpan((int)(position - _replayStart), _replayCount - (int)(position - _replayStart)));
    }

    private async Task<ConnectionEnd?> ReceiveEventsAsync(RealtimeConnection connection, CancellationToken cancellationToken)
    {
        while (true)
        {
            (RealtimeEvent? Event, ConnectionEnd? End) next;
            try
            {
                next = await connection.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return null;
            }
            if (next.End is { } end)
                return end;
            if (!await HandleEventAsync(next.Event!).ConfigureAwait(false))
                return new ConnectionEnd(null, "the server ended the session", null);
        }
    }

    /// <returns>False when the session is dead and must be replaced.</returns>
    private async Task<bool> HandleEventAsync(RealtimeEvent message)
    {
        switch (message.Type)
        {
            case RealtimeEventTypes.Delta when !string.IsNullOrEmpty(message.Delta):
                TimeSpan? segmentStart;
                lock (_gate)
                    segmentStart = _pending.TryPeek(out var oldest) ? oldest.SpeechStart : _speechStart; // the segment being transcribed
                await StopTtfbMetricsAsync().ConfigureAwait(false);
                await PushFrameAsync(new InterimTranscriptionFrame(message.Delta, _options.UserId, TimeProvider.GetUtcNow(), message.Language ?? _language)
                {
                    AudioStart = segmentStart,
                }).ConfigureAwait(false);
                break;
            case RealtimeEventTypes.Completed:
                await CompleteTurnAsync(message).ConfigureAwait(false);
                break;
            case RealtimeEventTypes.Failed when message.EventType is not null:
                lock (_gate)
                {
                    if (_pending.TryDequeue(out var failed))
                        Forget(failed.EndPosition);
                    _completedTurns++;
                    SignalIfDrained();
                }
                await PushErrorAsync($"Transcription of a turn failed: {message.Error?.Message ?? "no details"}", category: ErrorCategory.Processing).ConfigureAwait(false);
                break;
            case RealtimeEventTypes.Failed:
                await PushErrorAsync($"The transcription session failed: {message.Error?.Message ?? "no details"}", category: ErrorCategory.Server).ConfigureAwait(false);
                return false;
            case RealtimeEventTypes.Error:
                var code = message.Error?.Code ?? message.Code;
                await PushErrorAsync($"Together realtime error{(code is null ? "" : $" ({code})")}: {message.Error?.Message ?? message.Message ?? "no details"}",
                    category: RealtimeConnection.CategoryOf(code)).ConfigureAwait(false);
                break;
            case "<garbage>":
                Log.Garbage(Logger);
                break;
            default:
                Log.Ignored(Logger, message.Type ?? "<no type>");
                break;
        }
        return true;
    }

    private async Task CompleteTurnAsync(RealtimeEvent message)
    {
        PendingTurn? turn;
        lock (_gate)
        {
            turn = _pending.TryDequeue(out var t) ? t : null;
            _completedTurns++;
            if (turn is not null)
                Forget(turn.EndPosition);
            SignalIfDrained();
            ReconnectIfIdle();
        }
        await StopTtfbMetricsAsync().ConfigureAwait(false);
        var text = message.Transcript?.Trim();
        if (!string.IsNullOrEmpty(text))
        {
            await PushFrameAsync(new TranscriptionFrame(text, _options.UserId, TimeProvider.GetUtcNow(), message.Language ?? _language, finalized: true)
            {
                AudioStart = turn?.SpeechStart,
                AudioEnd = turn?.SpeechEnd,
            }).ConfigureAwait(false);
        }
        if (turn is not null)
        {
            await ReportTtfsAsync(TimeProvider.GetElapsedTime(turn.StopTimestamp) + TimeSpan.FromSeconds(turn.StopSecs)).ConfigureAwait(false);
            var seconds = (turn.SpeechEnd - (turn.SpeechStart ?? turn.SpeechEnd)).TotalSeconds;
            await ReportUsageAsync(new UsageMetricsData(Name, _model) { AudioSeconds = Math.Max(0, seconds) }).ConfigureAwait(false);
        }
    }

    /// <summary>Caller holds the lock.</summary>
    private void SignalIfDrained()
    {
        if (_pending.Count == 0)
            _drained.TrySetResult();
    }

    private static TaskCompletionSource NewSignal(bool completed)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
            signal.SetResult();
        return signal;
    }

    private sealed record PendingTurn(long EndPosition, TimeSpan? SpeechStart, TimeSpan SpeechEnd, long StopTimestamp, double StopSecs);

    private static partial class Log
    {
        [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "Connected to Together realtime transcription ({Model}); replaying {Samples} samples")]
        public static partial void Connected(ILogger logger, string model, int samples);

        [LoggerMessage(EventId = 601, Level = LogLevel.Warning, Message = "Connection attempt {Attempt} in {Delay}: {Reason}")]
        public static partial void Retrying(ILogger logger, int attempt, TimeSpan delay, string reason);

        [LoggerMessage(EventId = 602, Level = LogLevel.Warning, Message = "The realtime connection dropped ({Status}: {Reason}); reconnecting (drop {Drops})")]
        public static partial void Dropped(ILogger logger, string status, string reason, int drops);

        [LoggerMessage(EventId = 603, Level = LogLevel.Error, Message = "Giving up on Together realtime transcription: {Reason}")]
        public static partial void GaveUp(ILogger logger, string reason);

        [LoggerMessage(EventId = 604, Level = LogLevel.Warning, Message = "Ignored a server message that is not JSON")]
        public static partial void Garbage(ILogger logger);

        [LoggerMessage(EventId = 605, Level = LogLevel.Debug, Message = "Ignored server event {Type}")]
        public static partial void Ignored(ILogger logger, string type);

        [LoggerMessage(EventId = 606, Level = LogLevel.Information, Message = "Switching model from {From} to {To} between turns")]
        public static partial void Switching(ILogger logger, string from, string to);

        [LoggerMessage(EventId = 607, Level = LogLevel.Warning, Message = "More than {Limit} of untranscribed audio: the oldest is no longer kept for replay")]
        public static partial void ReplayOverflow(ILogger logger, TimeSpan limit);

        [LoggerMessage(EventId = 608, Level = LogLevel.Warning, Message = "No final transcript within {Timeout} of the end of the stream")]
        public static partial void FinalTimeout(ILogger logger, TimeSpan timeout);
    }
}
