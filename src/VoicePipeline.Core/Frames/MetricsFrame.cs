using VoicePipeline.Metrics;

namespace VoicePipeline.Frames;

/// <summary>Carries measurements (TTFB, processing time, TTFS, usage) downstream.</summary>
public sealed class MetricsFrame : SystemFrame
{
    /// <summary>Creates a metrics frame.</summary>
    public MetricsFrame(IReadOnlyList<MetricsData> data) => Data = data ?? throw new ArgumentNullException(nameof(data));

    /// <summary>Creates a metrics frame with one measurement.</summary>
    public MetricsFrame(MetricsData data) : this([data]) { }

    /// <summary>Gets the measurements.</summary>
    public IReadOnlyList<MetricsData> Data { get; }
}
