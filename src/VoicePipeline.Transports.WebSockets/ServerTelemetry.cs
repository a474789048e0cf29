using System.Diagnostics.Metrics;
using VoicePipeline.Metrics;

namespace VoicePipeline.Transports.WebSockets;

/// <summary>The server's instruments, on the VoicePipeline meter (<see cref="VoicePipelineTelemetry.MeterName"/>).</summary>
internal static class ServerTelemetry
{
    private static readonly Meter s_meter = new(VoicePipelineTelemetry.MeterName);
    private static long s_sessionsActive;

    /// <summary>
    /// The sessions running now, observed (so it reads 0 before the first session); Prometheus shows it as
    /// <c>voicepipeline_sessions_active</c> (an up-down counter is a gauge there, and a unit in braces adds no suffix),
    /// the name the autoscaler manifests in deploy/kubernetes read.
    /// </summary>
    public static ObservableUpDownCounter<long> SessionsActive { get; } = s_meter.CreateObservableUpDownCounter(
        "voicepipeline.sessions.active", static () => Interlocked.Read(ref s_sessionsActive), "{session}", "Voice sessions running now.");

    /// <summary>Counts a session that started (+1) or ended (-1).</summary>
    public static void SessionsChanged(int delta) => Interlocked.Add(ref s_sessionsActive, delta);
}
