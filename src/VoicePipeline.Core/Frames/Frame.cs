namespace VoicePipeline.Frames;

/// <summary>
/// The unit of work that flows through a pipeline. Every frame has a unique id, a readable name such as
/// <c>TranscriptionFrame#12</c>, an optional presentation timestamp and free-form metadata.
/// </summary>
/// <remarks>
/// Frames come in three kinds: <see cref="SystemFrame"/> (urgent, handled ahead of queued work and never dropped by an
/// interruption), <see cref="DataFrame"/> and <see cref="ControlFrame"/> (processed in order, dropped by an interruption
/// unless they implement <see cref="IUninterruptibleFrame"/>).
/// </remarks>
public abstract class Frame
{
    private static long s_nextId;
    private Dictionary<string, object?>? _metadata;

    /// <summary>Initializes a frame with a fresh id.</summary>
    private protected Frame(FrameKind kind)
    {
        Id = Interlocked.Increment(ref s_nextId);
        Kind = kind;
    }

    /// <summary>Gets the frame's kind, read on every hop (a field load is cheaper than a type test).</summary>
    internal FrameKind Kind { get; }

    /// <summary>Gets the process-wide unique id of this frame.</summary>
    public long Id { get; }

    /// <summary>Gets the frame's name: its type name and id, for example <c>TranscriptionFrame#12</c>.</summary>
    public string Name => $"{GetType().Name}#{Id}";

    /// <summary>Gets or sets when the frame should be presented, relative to the start of the stream.</summary>
    public TimeSpan? PresentationTimestamp { get; set; }

    /// <summary>Gets free-form metadata attached to the frame, created on first use.</summary>
    public IDictionary<string, object?> Metadata => _metadata ??= new Dictionary<string, object?>(StringComparer.Ordinal);

    /// <summary>Gets whether any metadata was attached, without allocating.</summary>
    public bool HasMetadata => _metadata is { Count: > 0 };

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>
/// An urgent frame: it is handled ahead of queued data and control frames and survives interruptions.
/// </summary>
public abstract class SystemFrame : Frame
{
    /// <summary>Initializes a system frame.</summary>
    protected SystemFrame()
        : base(FrameKind.System)
    {
    }

    private protected SystemFrame(FrameKind kind)
        : base(kind)
    {
    }
}

/// <summary>A frame that carries content (text, audio, transcriptions), processed in order.</summary>
public abstract class DataFrame : Frame
{
    /// <summary>Initializes a data frame.</summary>
    protected DataFrame()
        : base(FrameKind.Data)
    {
    }
}

/// <summary>A frame that controls processing (end, settings, response boundaries), processed in order.</summary>
public abstract class ControlFrame : Frame
{
    /// <summary>Initializes a control frame.</summary>
    protected ControlFrame()
        : base(FrameKind.Control)
    {
    }
}

/// <summary>Marks a data or control frame that an interruption must not drop.</summary>
public interface IUninterruptibleFrame;

/// <summary>The direction a frame travels in a pipeline.</summary>
public enum FrameDirection
{
    /// <summary>From the input transport towards the sink.</summary>
    Downstream,

    /// <summary>From the sink back towards the input transport (errors, control requests).</summary>
    Upstream,
}

/// <summary>How the engine schedules a frame.</summary>
internal enum FrameKind : byte
{
    /// <summary>An ordinary system frame: handled on arrival.</summary>
    System,

    /// <summary>A system frame that changes the processor's lifecycle (start, cancel, interruption).</summary>
    SystemLifecycle,

    /// <summary>A data frame: queued in order.</summary>
    Data,

    /// <summary>A control frame: queued in order.</summary>
    Control,
}
