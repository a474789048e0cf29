using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace VoicePipeline.Transports.WebSockets;

/// <summary>
/// The sessions of an app's voice endpoints: how many run, whether new ones are accepted (<c>/readyz</c>), and the drain
/// on shutdown. One per app (a DI singleton registered by <c>AddVoicePipelineServer</c>).
/// </summary>
public sealed partial class VoicePipelineServerState : IDisposable
{
    private readonly VoicePipelineServerOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _ending = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly object _gate = new();
    private readonly ITimer? _lagProbe;
    private readonly long[] _lags = new long[LagSamples]; // the last second's probe lags, in ticks of TimeProvider.TimestampFrequency
    private long _probeArmedAt;
    private int _lagIndex;
    private TaskCompletionSource _idle = NewIdle(completed: true);
    private int _sessions;
    private bool _draining;

    /// <summary>Creates the state of a server with <paramref name="options"/>.</summary>
    /// <param name="options">The server's options.</param>
    /// <param name="logger">Where drains and refusals are logged.</param>
    public VoicePipelineServerState(IOptions<VoicePipelineServerOptions> options, ILogger<VoicePipelineServerState>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value.Validate();
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _ = ServerTelemetry.SessionsActive; // the gauge exists (reads 0) from the server's start, not its first session
        if (_options.MaxSchedulingLag is not null)
        {
            // A one-shot timer armed again from its callback: how late it runs is the thread pool's lag.
            _probeArmedAt = _options.TimeProvider.GetTimestamp();
            _lagProbe = _options.TimeProvider.CreateTimer(static s => ((VoicePipelineServerState)s!).OnLagProbe(), this, LagProbeInterval, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>How often the scheduling lag is probed; the largest of the last <see cref="LagSamples"/> probes counts.</summary>
    private static TimeSpan LagProbeInterval => TimeSpan.FromMilliseconds(250);

    private const int LagSamples = 4;

    /// <summary>Gets the options the endpoints run with.</summary>
    public VoicePipelineServerOptions Options => _options;

    /// <summary>Gets how many sessions run now.</summary>
    public int ActiveSessions => Volatile.Read(ref _sessions);

    /// <summary>Gets whether a shutdown began: new sessions are refused.</summary>
    public bool IsDraining => Volatile.Read(ref _draining);

    /// <summary>Gets whether a new session would be accepted now (what <c>/readyz</c> answers).</summary>
    public bool IsReady => !IsDraining && ActiveSessions < _options.MaxSessions && !IsLagging;

    /// <summary>
    /// Gets the scheduling lag measured over the last second (zero unless <see cref="VoicePipelineServerOptions.MaxSchedulingLag"/>
    /// is set): how late the thread pool ran a probe that was due.
    /// </summary>
    public TimeSpan SchedulingLag
    {
        get
        {
            long largest = 0;
            for (var i = 0; i < _lags.Length; i++)
                largest = Math.Max(largest, Volatile.Read(ref _lags[i]));
            return TimeSpan.FromSeconds((double)largest / _options.TimeProvider.TimestampFrequency);
        }
    }

    /// <summary>Gets whether the server lags past <see cref="VoicePipelineServerOptions.MaxSchedulingLag"/>: new sessions are refused.</summary>
    public bool IsLagging => _options.MaxSchedulingLag is { } max && SchedulingLag > max;

    /// <summary>Gets a token that fires when the drain's grace period is over: sessions end with an <c>EndFrame</c>.</summary>
    public CancellationToken Ending => _ending.Token;

    /// <summary>Gets a token that fires when sessions must stop now (cancelled).</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Takes a session slot, or returns false when draining or full.</summary>
    internal bool TryAcquire()
    {
        lock (_gate)
        {
            if (_draining || _sessions >= _options.MaxSessions || IsLagging)
                return false;
            if (_sessions++ == 0)
                _idle = NewIdle(completed: false);
            ServerTelemetry.SessionsChanged(+1);
            return true;
        }
    }

    /// <summary>Gives a session slot back.</summary>
    internal void Release()
    {
        TaskCompletionSource? idle = null;
        lock (_gate)
        {
            if (--_sessions == 0)
                idle = _idle;
            ServerTelemetry.SessionsChanged(-1);
        }
        idle?.TrySetResult();
    }

    /// <summary>
    /// Drains: new sessions are refused at once, live ones get <see cref="VoicePipelineServerOptions.DrainGracePeriod"/>
    /// to finish, then those still running are ended (<see cref="Ending"/>: an <c>EndFrame</c>, a 1001 close) and get
    /// <see cref="VoicePipelineServerOptions.DrainEndTimeout"/> before they are cancelled (<see cref="Stopping"/>).
    /// Returns when no session runs, or when <paramref name="cancellationToken"/> fires (then everything is cancelled).
    /// </summary>
    /// <param name="cancellationToken">Cuts the drain short.</param>
    /// <returns>A task that completes when the drain is over.</returns>
    public async Task DrainAsync(CancellationToken cancellationToken = default)
    {
        Task idle;
        lock (_gate)
        {
            _draining = true;
            idle = _idle.Task;
        }
        Log.Draining(_logger, ActiveSessions, _options.DrainGracePeriod.TotalSeconds);
        try
        {
            if (!await WaitAsync(idle, _options.DrainGracePeriod, cancellationToken).ConfigureAwait(false))
            {
                Log.GraceOver(_logger, ActiveSessions);
                await _ending.CancelAsync().ConfigureAwait(false);
                if (!await WaitAsync(idle, _options.DrainEndTimeout, cancellationToken).ConfigureAwait(false))
                    await AbortAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await AbortAsync().ConfigureAwait(false);
        }
        Log.Drained(_logger, ActiveSessions);
    }

    /// <summary>Refuses new sessions and cancels the running ones at once.</summary>
    /// <returns>A task that completes when the sessions were told to stop.</returns>
    public async Task AbortAsync()
    {
        lock (_gate)
            _draining = true;
        await _stopping.CancelAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _lagProbe?.Dispose();
        _ending.Dispose();
        _stopping.Dispose();
    }

    private void OnLagProbe()
    {
        var time = _options.TimeProvider;
        var now = time.GetTimestamp();
        var interval = (long)(LagProbeInterval.TotalSeconds * time.TimestampFrequency);
        var lag = Math.Max(0, now - _probeArmedAt - interval);
        Volatile.Write(ref _lags[_lagIndex], lag);
        _lagIndex = (_lagIndex + 1) % LagSamples;
        _probeArmedAt = now;
        try
        {
            _lagProbe?.Change(LagProbeInterval, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // The server stopped.
        }
    }

    private async Task<bool> WaitAsync(Task idle, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await idle.WaitAsync(timeout, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static TaskCompletionSource NewIdle(bool completed)
    {
        var idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
            idle.SetResult();
        return idle;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 910, Level = LogLevel.Information, Message = "Draining: new sessions refused, {Sessions} live session(s) get {GraceSeconds} s to finish")]
        public static partial void Draining(ILogger logger, int sessions, double graceSeconds);

        [LoggerMessage(EventId = 911, Level = LogLevel.Warning, Message = "Drain grace period over: ending {Sessions} session(s) with an EndFrame and close 1001")]
        public static partial void GraceOver(ILogger logger, int sessions);

        [LoggerMessage(EventId = 912, Level = LogLevel.Information, Message = "Drained ({Sessions} session(s) left)")]
        public static partial void Drained(ILogger logger, int sessions);
    }
}
