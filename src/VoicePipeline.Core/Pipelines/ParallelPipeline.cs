using VoicePipeline.Frames;
using VoicePipeline.Processors;

namespace VoicePipeline.Pipelines;

/// <summary>
/// Runs branches side by side: every frame entering goes into every branch. A frame leaving several branches (a
/// pass-through) leaves the parallel pipeline once; lifecycle frames (start, end, cancel) leave once, after every
/// branch has passed them.
/// </summary>
public sealed class ParallelPipeline : FrameProcessor
{
    private const int SeenCapacity = 8192;

    private readonly Pipeline[] _branches;
    private readonly Lock _gate = new();
    private readonly Dictionary<long, int> _lifecycleCounts = [];
    private readonly HashSet<long> _seen = [];
    private readonly Queue<long> _seenOrder = new();

    /// <summary>Creates a parallel pipeline; each argument is one branch's processors, in order.</summary>
    public ParallelPipeline(params FrameProcessor[][] branches)
    {
        ArgumentNullException.ThrowIfNull(branches);
        if (branches.Length == 0)
            throw new ArgumentException("A parallel pipeline needs at least one branch.", nameof(branches));
        _branches = new Pipeline[branches.Length];
        for (var i = 0; i < branches.Length; i++)
        {
            var branch = new Pipeline(branches[i], $"{Name}.branch{i}");
            new BranchExit(this).Link(branch).Link(new BranchExit(this));
            _branches[i] = branch;
        }
    }

    /// <summary>Gets the branches.</summary>
    public IReadOnlyList<Pipeline> Branches => _branches;

    /// <inheritdoc />
    public override async ValueTask SetupAsync(FrameProcessorSetup setup, CancellationToken cancellationToken = default)
    {
        foreach (var branch in _branches)
            await branch.SetupAsync(setup, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask CleanupAsync(CancellationToken cancellationToken = default)
        => await Task.WhenAll(_branches.Select(b => b.CleanupAsync(cancellationToken).AsTask())).ConfigureAwait(false);

    /// <inheritdoc />
    public override async ValueTask QueueFrameAsync(Frame frame, FrameDirection direction = FrameDirection.Downstream, CancellationToken cancellationToken = default)
    {
        foreach (var branch in _branches)
            await branch.QueueFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
    }

    private ValueTask OnBranchOutputAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        bool forward;
        lock (_gate)
        {
            if (frame is Frames.StartFrame or EndFrame or CancelFrame)
            {
                _lifecycleCounts[frame.Id] = _lifecycleCounts.GetValueOrDefault(frame.Id) + 1;
                forward = _lifecycleCounts[frame.Id] == _branches.Length;
                if (forward)
                    _lifecycleCounts.Remove(frame.Id);
            }
            else
            {
                forward = _seen.Add(frame.Id);
                if (forward)
                {
                    _seenOrder.Enqueue(frame.Id);
                    if (_seenOrder.Count > SeenCapacity)
                        _seen.Remove(_seenOrder.Dequeue());
                }
            }
        }
        return forward ? PushFrameAsync(frame, direction, cancellationToken) : ValueTask.CompletedTask;
    }

    /// <summary>Collects what leaves a branch, in either direction.</summary>
    private sealed class BranchExit(ParallelPipeline owner) : FrameProcessor(owner.Name + ".exit")
    {
        public override ValueTask SetupAsync(FrameProcessorSetup setup, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public override ValueTask QueueFrameAsync(Frame frame, FrameDirection direction = FrameDirection.Downstream, CancellationToken cancellationToken = default)
            => owner.OnBranchOutputAsync(frame, direction, cancellationToken);
    }
}
