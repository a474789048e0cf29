using VoicePipeline.Frames;
using VoicePipeline.Processors;

namespace VoicePipeline.Pipelines;

/// <summary>
/// A chain of processors that is itself a processor, so pipelines nest. Frames entering downstream go to the first
/// processor; frames leaving the last one continue after the pipeline. Crossing a pipeline's boundary costs no queue hop.
/// </summary>
public class Pipeline : FrameProcessor
{
    private readonly FrameProcessor[] _processors;
    private readonly Boundary _source;
    private readonly Boundary _sink;

    /// <summary>Creates a pipeline of <paramref name="processors"/>, in order.</summary>
    public Pipeline(params FrameProcessor[] processors)
        : this((IEnumerable<FrameProcessor>)processors)
    {
    }

    /// <summary>Creates a named pipeline of <paramref name="processors"/>, in order.</summary>
    public Pipeline(IEnumerable<FrameProcessor> processors, string? name = null)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(processors);
        _processors = processors.ToArray();
        if (_processors.Any(p => p is null))
            throw new ArgumentException("A pipeline cannot contain a null processor.", nameof(processors));
        if (_processors.Distinct().Count() != _processors.Length)
            throw new ArgumentException("A processor can appear only once in a pipeline.", nameof(processors));
        _source = new Boundary(this, FrameDirection.Upstream);
        _sink = new Boundary(this, FrameDirection.Downstream);
        FrameProcessor previous = _source;
        foreach (var processor in _processors)
            previous = previous.Link(processor);
        previous.Link(_sink);
    }

    /// <summary>Gets the processors, in order.</summary>
    public IReadOnlyList<FrameProcessor> Processors => _processors;

    /// <inheritdoc />
    public override async ValueTask SetupAsync(FrameProcessorSetup setup, CancellationToken cancellationToken = default)
    {
        foreach (var processor in _processors)
            await processor.SetupAsync(setup, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask CleanupAsync(CancellationToken cancellationToken = default)
    {
        // Each processor bounds its own wait, so stopping them side by side bounds the whole pipeline's.
        await Task.WhenAll(_processors.Select(p => p.CleanupAsync(cancellationToken).AsTask())).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override ValueTask QueueFrameAsync(Frame frame, FrameDirection direction = FrameDirection.Downstream, CancellationToken cancellationToken = default)
        => direction == FrameDirection.Downstream
            ? _source.Next!.QueueFrameAsync(frame, direction, cancellationToken)
            : _sink.Previous!.QueueFrameAsync(frame, direction, cancellationToken);

    /// <summary>An end of the chain: frames leaving the chain in its direction continue outside the pipeline.</summary>
    private sealed class Boundary(Pipeline pipeline, FrameDirection exit) : FrameProcessor(pipeline.Name + (exit == FrameDirection.Downstream ? ".sink" : ".source"))
    {
        public override ValueTask SetupAsync(FrameProcessorSetup setup, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public override ValueTask QueueFrameAsync(Frame frame, FrameDirection direction = FrameDirection.Downstream, CancellationToken cancellationToken = default)
            => direction == exit
                ? pipeline.PushFrameAsync(frame, direction, cancellationToken)
                : (direction == FrameDirection.Downstream ? Next : Previous)!.QueueFrameAsync(frame, direction, cancellationToken);
    }
}
