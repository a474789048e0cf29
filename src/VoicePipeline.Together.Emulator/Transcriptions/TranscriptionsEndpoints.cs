using Microsoft.AspNetCore.Routing;

namespace VoicePipeline.Together.Emulator.Transcriptions;

/// <summary>Maps the emulator's Transcriptions endpoints.</summary>
internal static class TranscriptionsEndpoints
{
    /// <summary>Adds the endpoints to <paramref name="routes"/>.</summary>
    public static IEndpointRouteBuilder MapTranscriptions(this IEndpointRouteBuilder routes, TogetherEmulatorOptions options)
    {
        _ = options;
        return routes;
    }
}
