using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VoicePipeline.Pipelines;

namespace VoicePipeline.Testing;

/// <summary>Settings of a <see cref="FrameProcessorHarness"/>.</summary>
public sealed class HarnessOptions
{
    /// <summary>Gets or sets the input sample rate announced in the start frame.</summary>
    public int AudioInSampleRate { get; set; } = 16_000;

    /// <summary>Gets or sets the output sample rate announced in the start frame.</summary>
    public int AudioOutSampleRate { get; set; } = 24_000;

    /// <summary>Gets or sets whether interruptions are allowed.</summary>
    public bool AllowInterruptions { get; set; } = true;

    /// <summary>Gets or sets whether metrics frames are pushed.</summary>
    public bool EnableMetrics { get; set; }

    /// <summary>Gets or sets whether usage metrics frames are pushed.</summary>
    public bool EnableUsageMetrics { get; set; }

    /// <summary>Gets or sets the clock (for example a FakeTimeProvider).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Gets or sets the logger factory.</summary>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;

    /// <summary>Gets or sets what a fatal error does; the harness keeps running by default so tests can inspect it.</summary>
    public FatalErrorPolicy FatalErrorPolicy { get; set; } = FatalErrorPolicy.Continue;

    /// <summary>Gets or sets how long the harness waits for frames and for the run to end (real time) before failing.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Gets or sets how long cleanup waits for the processor.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
