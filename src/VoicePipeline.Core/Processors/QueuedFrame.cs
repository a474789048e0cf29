using VoicePipeline.Frames;

namespace VoicePipeline.Processors;

/// <summary>
/// An interruption epoch: frames queued in an epoch that has since been interrupted are dropped (unless
/// uninterruptible), and the epoch's token cancels the work in flight for them.
/// </summary>
internal sealed class InterruptionEpoch
{
    private readonly CancellationTokenSource _cts = new();

    public CancellationToken Token => _cts.Token;

    public void Cancel()
    {
        try
        {
            _cts.Cancel();
        }
        catch (AggregateException)
        {
            // A callback registered by processing code threw; the epoch is cancelled regardless.
        }
    }
}

/// <summary>A frame waiting in a processor's queue, with the interruption epoch it was queued in.</summary>
internal readonly record struct QueuedFrame(Frame Frame, FrameDirection Direction, InterruptionEpoch Epoch);
