namespace VoicePipeline.Metrics;

/// <summary>One measurement reported by a processor.</summary>
/// <param name="Processor">The name of the processor that measured it.</param>
/// <param name="Model">The model involved, when relevant.</param>
public abstract record MetricsData(string Processor, string? Model);

/// <summary>Time to first byte: from a request to the first byte of its answer.</summary>
public sealed record TtfbMetricsData(string Processor, TimeSpan Value, string? Model = null) : MetricsData(Processor, Model);

/// <summary>Time a processor spent processing one unit of work.</summary>
public sealed record ProcessingMetricsData(string Processor, TimeSpan Value, string? Model = null) : MetricsData(Processor, Model);

/// <summary>Time to final segment: from the real end of speech to the final transcript.</summary>
public sealed record TtfsMetricsData(string Processor, TimeSpan Value, string? Model = null) : MetricsData(Processor, Model);

/// <summary>Usage billed by a service.</summary>
public sealed record UsageMetricsData(string Processor, string? Model = null) : MetricsData(Processor, Model)
{
    /// <summary>Gets the seconds of audio processed.</summary>
    public double? AudioSeconds { get; init; }

    /// <summary>Gets the characters synthesized.</summary>
    public int? Characters { get; init; }

    /// <summary>Gets the prompt tokens used.</summary>
    public int? PromptTokens { get; init; }

    /// <summary>Gets the completion tokens produced.</summary>
    public int? CompletionTokens { get; init; }
}
