using VoicePipeline.Frames;
using VoicePipeline.Processors;

namespace VoicePipeline.Observers;

/// <summary>
/// Watches every frame pushed between processors of a pipeline task: for logging, debugging, latency tracking.
/// Each observer has its own bounded queue and loop, so a slow observer never slows the pipeline: when its queue is
/// full, new events for it are dropped and counted.
/// </summary>
public interface IFrameObserver
{
    /// <summary>Called for every push, in push order for a given source processor.</summary>
    ValueTask OnFramePushedAsync(FramePushed pushed, CancellationToken cancellationToken = default);
}

/// <summary>A frame pushed from one processor to another.</summary>
/// <param name="Source">The processor that pushed the frame.</param>
/// <param name="Destination">The processor it was pushed to, or null at the end of a chain.</param>
/// <param name="Frame">The frame.</param>
/// <param name="Direction">The direction it travels.</param>
/// <param name="Timestamp">When it was pushed, since the task started.</param>
public readonly record struct FramePushed(FrameProcessor Source, FrameProcessor? Destination, Frame Frame, FrameDirection Direction, TimeSpan Timestamp);
