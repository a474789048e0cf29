using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace VoicePipeline.Pipelines;

/// <summary>
/// Runs a <see cref="PipelineTask"/> in a console process: the first Ctrl+C or SIGTERM cancels the task gracefully,
/// a second one stops waiting at once. The process never hangs on shutdown.
/// </summary>
public sealed partial class PipelineRunner
{
    private readonly ILogger _logger;
    private readonly bool _handleSignals;
    private readonly Lock _gate = new();
    private PipelineTask? _task;
    private CancellationTokenSource? _force;
    private int _shutdownRequests;

    /// <summary>Creates a runner.</summary>
    /// <param name="handleSignals">Whether to handle SIGINT (Ctrl+C) and SIGTERM.</param>
    /// <param name="loggerFactory">Where to log.</param>
    public PipelineRunner(bool handleSignals = true, ILoggerFactory? loggerFactory = null)
    {
        _handleSignals = handleSignals;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<PipelineRunner>();
    }

    /// <summary>Runs <paramref name="task"/> until it finishes, is cancelled, or is forced to stop.</summary>
    /// <returns>How the run ended; <see cref="PipelineCompletion.Abandoned"/> when forced.</returns>
    public async Task<PipelineCompletion> RunAsync(PipelineTask task, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        using var force = new CancellationTokenSource();
        lock (_gate)
        {
            _task = task;
            _force = force;
        }
        var registrations = _handleSignals
            ? new[]
            {
                PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
                PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
            }
            : [];
        try
        {
            await using var external = cancellationToken.Register(() => RequestShutdown()).ConfigureAwait(false);
            return await task.RunAsync(CancellationToken.None).WaitAsync(force.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (force.IsCancellationRequested)
        {
            Log.Forced(_logger);
            return PipelineCompletion.Abandoned;
        }
        finally
        {
            foreach (var registration in registrations)
                registration.Dispose();
            lock (_gate)
            {
                _task = null;
                _force = null;
            }
        }
    }

    /// <summary>
    /// Does what a signal does: the first request cancels the running task gracefully, the second stops waiting for it.
    /// </summary>
    public void RequestShutdown()
    {
        PipelineTask? task;
        CancellationTokenSource? force;
        lock (_gate)
        {
            task = _task;
            force = _force;
        }
        if (task is null)
            return;
        if (Interlocked.Increment(ref _shutdownRequests) == 1)
        {
            Log.ShuttingDown(_logger);
            _ = task.CancelAsync("shutdown requested").AsTask();
        }
        else
        {
            force?.Cancel();
        }
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true; // we shut down ourselves
        RequestShutdown();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "Shutting down (press Ctrl+C again to force)")]
        public static partial void ShuttingDown(ILogger logger);

        [LoggerMessage(EventId = 401, Level = LogLevel.Warning, Message = "Forced to stop without waiting for the pipeline")]
        public static partial void Forced(ILogger logger);
    }
}
