namespace VoicePipeline.Frames;

/// <summary>The first frame of every pipeline run: it carries the stream's settings to every processor.</summary>
public sealed class StartFrame : SystemFrame
{
    /// <summary>Creates a start frame.</summary>
    public StartFrame()
        : base(FrameKind.SystemLifecycle)
    {
    }

    /// <summary>Gets the sample rate of input audio (Hz).</summary>
    public int AudioInSampleRate { get; init; } = 16_000;

    /// <summary>Gets the sample rate of output audio (Hz).</summary>
    public int AudioOutSampleRate { get; init; } = 24_000;

    /// <summary>Gets whether the user may interrupt the bot.</summary>
    public bool AllowInterruptions { get; init; } = true;

    /// <summary>Gets whether processors emit <see cref="MetricsFrame"/>s for TTFB and processing time.</summary>
    public bool EnableMetrics { get; init; }

    /// <summary>Gets whether processors emit usage metrics (audio seconds, characters, tokens).</summary>
    public bool EnableUsageMetrics { get; init; }
}

/// <summary>Ends a pipeline gracefully: everything queued before it is processed first.</summary>
public sealed class EndFrame : ControlFrame, IUninterruptibleFrame
{
    /// <summary>Gets an optional reason, for logs.</summary>
    public string? Reason { get; init; }
}

/// <summary>Stops a pipeline immediately: in-flight work is cancelled and queued frames are dropped.</summary>
public sealed class CancelFrame : SystemFrame
{
    /// <summary>Creates a cancel frame.</summary>
    public CancelFrame()
        : base(FrameKind.SystemLifecycle)
    {
    }

    /// <summary>Gets an optional reason, for logs.</summary>
    public string? Reason { get; init; }
}

/// <summary>
/// The user interrupted: every processor cancels its in-flight work and drops queued interruptible frames.
/// </summary>
public sealed class InterruptionFrame : SystemFrame
{
    /// <summary>Creates an interruption frame.</summary>
    public InterruptionFrame()
        : base(FrameKind.SystemLifecycle)
    {
    }
}
