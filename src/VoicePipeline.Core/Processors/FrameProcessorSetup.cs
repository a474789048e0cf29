using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VoicePipeline.Observers;

namespace VoicePipeline.Processors;

/// <summary>What a <see cref="FrameProcessor"/> receives when a pipeline task sets it up.</summary>
public sealed class FrameProcessorSetup
{
    /// <summary>A setup for processors used outside a task (system clock, no logging).</summary>
    public static FrameProcessorSetup Default { get; } = new();

    /// <summary>Gets the clock every processor uses for timers, pacing and metrics.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Gets the logger factory processors create their loggers from.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>Gets how long cleanup waits for a processor's loops before reporting it as stuck and moving on.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets the observers notified of every frame a processor pushes.</summary>
    internal ObserverHub? Observers { get; init; }

    /// <summary>Gets a callback told about processors that did not stop within <see cref="ShutdownTimeout"/>.</summary>
    internal Action<FrameProcessor>? OnStuckProcessor { get; init; }
}
