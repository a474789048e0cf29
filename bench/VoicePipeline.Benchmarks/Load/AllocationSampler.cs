using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace VoicePipeline.Benchmarks.Load;

/// <summary>
/// Samples this process's allocations by type from the runtime's own allocation ticks (one event per ~100 KB
/// allocated), for finding what makes the garbage collector run; on with <c>--allocations</c>.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private readonly ConcurrentDictionary<string, long> _bytes = new();

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword: AllocationTick at verbose
    }

    protected override void OnEventWritten(EventWrittenEventArgs data)
    {
        if (data.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || data.Payload is null)
            return;
        var type = data.PayloadNames!.IndexOf("TypeName") is >= 0 and var t ? data.Payload[t] as string ?? "?" : "?";
        var amount = data.PayloadNames.IndexOf("AllocationAmount64") is >= 0 and var a ? Convert.ToInt64(data.Payload[a], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
        _bytes.AddOrUpdate(type, amount, (_, v) => v + amount);
    }

    /// <summary>The types that allocated most since the last call, most first, and starts again.</summary>
    public IEnumerable<(string Type, double MiB)> TakeTop(int count)
    {
        var top = _bytes.OrderByDescending(p => p.Value).Take(count).Select(p => (p.Key, p.Value / 1048576.0)).ToList();
        _bytes.Clear();
        return top;
    }
}
