using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace VoicePipeline.Metrics;

/// <summary>
/// The <see cref="System.Diagnostics.Metrics"/> instruments every processor records into, and the
/// <see cref="System.Diagnostics.ActivitySource"/> of the conversation, turn and service spans.
/// </summary>
public static class VoicePipelineTelemetry
{
    /// <summary>The name of the meter; subscribe to it with a MeterListener or OpenTelemetry.</summary>
    public const string MeterName = "VoicePipeline";

    /// <summary>
    /// The name of the activity source: a span per conversation (pipeline task), per turn (user speech to the end of
    /// the bot's reply) and per service call (<c>stt</c>, <c>llm</c>, <c>tts</c>) with Pipecat's attribute names.
    /// Spans are made only while an <see cref="ActivityListener"/> (OpenTelemetry's tracer) listens to this source.
    /// </summary>
    public const string ActivitySourceName = "VoicePipeline";

    private static readonly Meter s_meter = new(MeterName);

    internal static readonly ActivitySource ActivitySource = new(ActivitySourceName);

    internal static readonly Histogram<double> Ttfb = s_meter.CreateHistogram<double>("voicepipeline.ttfb", "s", "Time to first byte of a service's answer.");
    internal static readonly Histogram<double> ProcessingTime = s_meter.CreateHistogram<double>("voicepipeline.processing_time", "s", "Time spent processing one unit of work.");
    internal static readonly Histogram<double> Ttfs = s_meter.CreateHistogram<double>("voicepipeline.ttfs", "s", "Time from the end of speech to the final transcript.");
    internal static readonly Counter<double> AudioSeconds = s_meter.CreateCounter<double>("voicepipeline.usage.audio", "s", "Seconds of audio processed by services.");
    internal static readonly Counter<long> Characters = s_meter.CreateCounter<long>("voicepipeline.usage.characters", "{character}", "Characters synthesized.");
    internal static readonly Counter<long> Tokens = s_meter.CreateCounter<long>("voicepipeline.usage.tokens", "{token}", "LLM tokens used.");
    internal static readonly Counter<long> Errors = s_meter.CreateCounter<long>("voicepipeline.errors", "{error}", "Errors reported by processors.");

    internal static void RecordUsage(UsageMetricsData usage, KeyValuePair<string, object?> tag)
    {
        if (usage.AudioSeconds is { } seconds)
            AudioSeconds.Add(seconds, tag);
        if (usage.Characters is { } characters)
            Characters.Add(characters, tag);
        if (usage.PromptTokens is { } prompt)
            Tokens.Add(prompt, tag, new KeyValuePair<string, object?>("kind", "prompt"));
        if (usage.CompletionTokens is { } completion)
            Tokens.Add(completion, tag, new KeyValuePair<string, object?>("kind", "completion"));
    }
}
