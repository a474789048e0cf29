namespace VoicePipeline.Together.Emulator.Chat;

/// <summary>One chat completion the emulator answered, with its own time (for benchmarks that subtract it from a pipeline's latency).</summary>
public sealed class ChatRequestLog
{
    private long _firstTokenTicks = -1;
    private long _completedTicks = -1;

    internal ChatRequestLog(string model, bool stream, int toolCalls)
    {
        Model = model;
        Stream = stream;
        ToolCalls = toolCalls;
    }

    /// <summary>Gets the model asked for.</summary>
    public string Model { get; }

    /// <summary>Gets whether the response was streamed.</summary>
    public bool Stream { get; }

    /// <summary>Gets how many tool calls the answer made.</summary>
    public int ToolCalls { get; }

    /// <summary>Gets how long after the request arrived the first chunk (or the whole body) was written, on the emulator's clock.</summary>
    public TimeSpan? FirstTokenAfter => Interlocked.Read(ref _firstTokenTicks) is >= 0 and var ticks ? TimeSpan.FromTicks(ticks) : null;

    /// <summary>Gets how long after the request arrived the response was complete, on the emulator's clock.</summary>
    public TimeSpan? CompletedAfter => Interlocked.Read(ref _completedTicks) is >= 0 and var ticks ? TimeSpan.FromTicks(ticks) : null;

    internal void MarkFirstToken(TimeSpan after) => Interlocked.CompareExchange(ref _firstTokenTicks, after.Ticks, -1);

    internal void MarkCompleted(TimeSpan after)
    {
        MarkFirstToken(after);
        Interlocked.Exchange(ref _completedTicks, after.Ticks);
    }
}
