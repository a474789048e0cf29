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
    protected Frame() => Id = Interlocked.Increment(ref s_nextId);

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
public abstract class SystemFrame : Frame;

/// <summary>A frame that carries content (text, audio, transcriptions), processed in order.</summary>
public abstract class DataFrame : Frame;

/// <summary>A frame that controls processing (end, settings, response boundaries), processed in order.</summary>
public abstract class ControlFrame : Frame;

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
