using Microsoft.AspNetCore.Routing;

namespace VoicePipeline.Together.Emulator.Realtime;

/// <summary>Maps the emulator's RealtimeTranscription endpoints.</summary>
internal static class RealtimeTranscriptionEndpoints
{
    /// <summary>Adds the endpoints to <paramref name="routes"/>.</summary>
    public static IEndpointRouteBuilder MapRealtimeTranscription(this IEndpointRouteBuilder routes, TogetherEmulatorOptions options)
    {
        _ = options;
        return routes;
    }
}
