using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VoicePipeline.Pipelines;
using VoicePipeline.Processors;

namespace VoicePipeline.Hosting;

/// <summary>
/// Creates <see cref="PipelineTask"/>s (one per session) with the container's <see cref="TimeProvider"/> and
/// <see cref="ILoggerFactory"/>: a task hands both to every processor of its pipeline when it starts, so services
/// built by the factories of this library log and keep time the way the application does.
/// </summary>
public sealed class PipelineTaskFactory
{
    private readonly IOptionsMonitor<PipelineTaskOptions> _options;
    private readonly ILoggerFactory _loggerFactory;

    /// <summary>Creates the factory (the container does).</summary>
    /// <param name="options">The task settings configured with <c>AddVoicePipeline(configure)</c>.</param>
    /// <param name="loggerFactory">The container's logger factory, for runners.</param>
    public PipelineTaskFactory(IOptionsMonitor<PipelineTaskOptions> options, ILoggerFactory loggerFactory)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _loggerFactory = loggerFactory ?? throw new ArgumentNullException(nameof(loggerFactory));
    }

    /// <summary>Creates a task for <paramref name="pipeline"/> with a copy of the configured settings.</summary>
    /// <param name="pipeline">The pipeline (or any processor) to run.</param>
    /// <param name="configure">Changes to the copy for this task only (sample rates, observers, ...).</param>
    public PipelineTask Create(FrameProcessor pipeline, Action<PipelineTaskOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        var options = _options.CurrentValue.Clone();
        configure?.Invoke(options);
        return new PipelineTask(pipeline, options);
    }

    /// <summary>Creates a runner that logs to the container's logger factory.</summary>
    /// <param name="handleSignals">Whether Ctrl+C and SIGTERM cancel the task it runs.</param>
    public PipelineRunner CreateRunner(bool handleSignals = true) => new(handleSignals, _loggerFactory);
}
