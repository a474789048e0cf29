using VoicePipeline.Frames;

namespace VoicePipeline.Processors;

/// <summary>
/// A processor whose frames come from outside the pipeline (a file, a socket): <see cref="PumpAsync"/> runs on its own
/// task once the <see cref="StartFrame"/> has passed, its token is cancelled by a <see cref="CancelFrame"/>, and cleanup
/// cancels it and waits for it to finish (at most 5 s).
/// </summary>
public abstract class SourceProcessor(string? name = null) : FrameProcessor(name)
{
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(5);
    private readonly CancellationTokenSource _stop = new();
    private Task? _pump;

    /// <summary>Produces the frames (pushed with <see cref="FrameProcessor.PushFrameAsync"/>) until the source ends or <paramref name="cancellationToken"/> fires.</summary>
    /// <param name="start">The pipeline's start frame (sample rates and the like).</param>
    /// <param name="cancellationToken">Fires when the pipeline is cancelled or the processor cleaned up.</param>
    protected abstract Task PumpAsync(StartFrame start, CancellationToken cancellationToken);

    /// <inheritdoc />
    protected override ValueTask OnStartAsync(StartFrame frame, CancellationToken cancellationToken)
    {
        _pump = Task.Run(() => PumpAsync(frame, _stop.Token), CancellationToken.None);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override async ValueTask OnCancelAsync(CancelFrame frame, CancellationToken cancellationToken)
        => await _stop.CancelAsync().ConfigureAwait(false);

    /// <inheritdoc />
    public override async ValueTask CleanupAsync(CancellationToken cancellationToken = default)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_pump is not null)
            await Task.WhenAny(_pump, Task.Delay(s_stopTimeout, cancellationToken)).ConfigureAwait(false);
        await base.CleanupAsync(cancellationToken).ConfigureAwait(false);
    }
}
