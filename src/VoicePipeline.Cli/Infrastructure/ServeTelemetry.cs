using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using VoicePipeline.Metrics;

namespace VoicePipeline.Cli.Infrastructure;

/// <summary>
/// <c>vp serve</c>'s OpenTelemetry: the VoicePipeline meter on a Prometheus endpoint (always), and with <c>--otlp</c>
/// the meter and the conversation/turn/service spans exported over OTLP (http/protobuf).
/// </summary>
internal static class ServeTelemetry
{
    /// <summary>Parses <c>--otlp</c>: an absolute http(s) URL of a collector's OTLP/HTTP receiver (its base, e.g. port 4318).</summary>
    public static Uri? ParseOtlp(string? value)
    {
        if (value is null)
            return null;
        if (!Uri.TryCreate(value, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            throw new ArgumentException($"--otlp: '{value}' is not an absolute http(s) URL (an OTLP/HTTP receiver, e.g. http://localhost:4318)");
        return url;
    }

    /// <summary>Registers the meter provider (Prometheus, OTLP) and, with an OTLP endpoint, the tracer provider.</summary>
    public static void Add(IServiceCollection services, Uri? otlp)
    {
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("vp-serve"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(VoicePipelineTelemetry.MeterName);
                // Every scrape sees the present: a readiness probe or an autoscaler must not read a stale session count.
                metrics.AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
                if (otlp is not null)
                    metrics.AddOtlpExporter(o => Configure(o, otlp, "v1/metrics"));
            });
        if (otlp is not null)
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(VoicePipelineTelemetry.ActivitySourceName)
                .AddOtlpExporter(o => Configure(o, otlp, "v1/traces")));
        }
    }

    /// <summary>Maps <c>/metrics</c> (Prometheus text format).</summary>
    public static void MapMetrics(IEndpointRouteBuilder app) => app.MapPrometheusScrapingEndpoint("/metrics");

    private static void Configure(OtlpExporterOptions options, Uri baseUrl, string signalPath)
    {
        // Set in code, the endpoint is used as is: the signal's path is ours to add.
        options.Protocol = OtlpExportProtocol.HttpProtobuf;
        options.Endpoint = new Uri(baseUrl.AbsoluteUri.TrimEnd('/') + "/" + signalPath);
    }
}
