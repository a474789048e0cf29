using Microsoft.AspNetCore.Routing;

namespace VoicePipeline.Together.Emulator.Speech;

/// <summary>Maps the emulator's Speech endpoints.</summary>
internal static class SpeechEndpoints
{
    /// <summary>Adds the endpoints to <paramref name="routes"/>.</summary>
    public static IEndpointRouteBuilder MapSpeech(this IEndpointRouteBuilder routes, TogetherEmulatorOptions options)
    {
        _ = options;
        return routes;
    }
}
