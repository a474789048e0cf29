using VoicePipeline.Frames;
using VoicePipeline.Processors;

namespace VoicePipeline.Core.Tests;

/// <summary>An urgent frame used to probe ordering.</summary>
internal sealed class PingFrame : SystemFrame;

/// <summary>Appends a tag to every text frame it sees.</summary>
internal sealed class TagProcessor(string tag) : FrameProcessor("Tag." + tag)
{
    protected override ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
        => frame is TextFrame text
            ? PushFrameAsync(new TextFrame(text.Text + ":" + tag), direction, cancellationToken)
            : base.ProcessFrameAsync(frame, direction, cancellationToken);
}

/// <summary>Holds each text frame until the gate opens; observes cancellation (as real services do).</summary>
internal sealed class GateProcessor : FrameProcessor
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource FirstHeld { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<bool> FirstCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Open() => _gate.TrySetResult();

    protected override async ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        if (frame is TextFrame)
        {
            FirstHeld.TrySetResult();
            try
            {
                await _gate.Task.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                FirstCancelled.TrySetResult(true);
                throw;
            }
        }
        await PushFrameAsync(frame, direction, cancellationToken);
    }
}

/// <summary>Never finishes a text frame and ignores cancellation: a badly written processor.</summary>
internal sealed class StuckProcessor(bool stuckOnSystemFrames = false) : FrameProcessor
{
    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override async ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        if (frame is TextFrame)
            await HangAsync();
        await PushFrameAsync(frame, direction, cancellationToken);
    }

    protected override async ValueTask ProcessSystemFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        if (stuckOnSystemFrames && frame is PingFrame)
            await HangAsync();
        await PushFrameAsync(frame, direction, cancellationToken);
    }

    private Task HangAsync()
    {
        Entered.TrySetResult();
        return new TaskCompletionSource().Task; // ignores the token on purpose
    }
}

/// <summary>Throws on text "boom".</summary>
internal sealed class ThrowingProcessor : FrameProcessor
{
    protected override ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
        => frame is TextFrame { Text: "boom" }
            ? throw new InvalidOperationException("kaboom")
            : base.ProcessFrameAsync(frame, direction, cancellationToken);
}

/// <summary>Signals when the end frame reaches it.</summary>
internal sealed class EndProbe : FrameProcessor
{
    public TaskCompletionSource EndSeen { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override ValueTask OnEndAsync(EndFrame frame, CancellationToken cancellationToken)
    {
        EndSeen.TrySetResult();
        return ValueTask.CompletedTask;
    }
}
