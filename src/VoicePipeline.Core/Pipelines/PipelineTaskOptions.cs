using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VoicePipeline.Frames;
using VoicePipeline.Observers;

namespace VoicePipeline.Pipelines;

/// <summary>What a <see cref="PipelineTask"/> does when a processor reports a fatal <see cref="ErrorFrame"/>.</summary>
public enum FatalErrorPolicy
{
    /// <summary>Record the error and keep running.</summary>
    Continue,

    /// <summary>End gracefully: an <see cref="EndFrame"/> drains the work already queued.</summary>
    End,

    /// <summary>Cancel immediately.</summary>
    Cancel,
}

/// <summary>Settings of a <see cref="PipelineTask"/>.</summary>
public sealed class PipelineTaskOptions
{
    /// <summary>Gets or sets the input audio sample rate announced in the <see cref="StartFrame"/>.</summary>
    public int AudioInSampleRate { get; set; } = 16_000;

    /// <summary>Gets or sets the output audio sample rate announced in the <see cref="StartFrame"/>.</summary>
    public int AudioOutSampleRate { get; set; } = 24_000;

    /// <summary>Gets or sets whether the user may interrupt the bot.</summary>
    public bool AllowInterruptions { get; set; } = true;

    /// <summary>Gets or sets whether processors push TTFB/processing/TTFS <see cref="MetricsFrame"/>s.</summary>
    public bool EnableMetrics { get; set; }

    /// <summary>Gets or sets whether processors push usage <see cref="MetricsFrame"/>s.</summary>
    public bool EnableUsageMetrics { get; set; }

    /// <summary>
    /// Gets or sets whether the task makes conversation, turn and service spans on
    /// <see cref="Metrics.VoicePipelineTelemetry.ActivitySourceName"/> while a listener (OpenTelemetry) listens to it;
    /// without a listener nothing is made either way. The TTFB and usage attributes (characters, tokens) come from the
    /// processors' <see cref="MetricsFrame"/>s, as in Pipecat: turn on <see cref="EnableMetrics"/> and
    /// <see cref="EnableUsageMetrics"/> for them.
    /// </summary>
    public bool EnableTracing { get; set; } = true;

    /// <summary>Gets or sets the id of the conversation span (<c>conversation.id</c>); a new GUID when null.</summary>
    public string? ConversationId { get; set; }

    /// <summary>Gets or sets the clock of the whole pipeline.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Gets or sets the logger factory of the whole pipeline.</summary>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;

    /// <summary>Gets the observers of every frame push.</summary>
    public IList<IFrameObserver> Observers { get; private set; } = new List<IFrameObserver>();

    /// <summary>Gets or sets how many pushes an observer may lag behind before further ones are dropped for it.</summary>
    public int ObserverQueueCapacity { get; set; } = 4096;

    /// <summary>Gets or sets how long the pipeline may go without activity before it is idle; null disables the check.</summary>
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>Gets or sets whether an idle pipeline is cancelled (otherwise only <see cref="PipelineTask.Idle"/> is raised).</summary>
    public bool CancelOnIdleTimeout { get; set; } = true;

    /// <summary>
    /// Gets or sets which frames reaching the end of the pipeline count as activity. The default counts speech,
    /// text and transcriptions and TTS boundaries.
    /// </summary>
    public Func<Frame, bool> IsActivity { get; set; } = static frame =>
        frame is UserStartedSpeakingFrame or UserStoppedSpeakingFrame or TextFrame or TtsStartedFrame or TtsStoppedFrame;

    /// <summary>Gets or sets what a fatal error does.</summary>
    public FatalErrorPolicy FatalErrorPolicy { get; set; } = FatalErrorPolicy.Cancel;

    /// <summary>Gets or sets how long a cancellation may take to reach the end of the pipeline before the task stops anyway.</summary>
    public TimeSpan CancelTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how long cleanup waits for each processor before reporting it as stuck.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Creates a copy of these options (observers included).</summary>
    public PipelineTaskOptions Clone()
    {
        var clone = (PipelineTaskOptions)MemberwiseClone();
        clone.Observers = new List<IFrameObserver>(Observers);
        return clone;
    }
}
