using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace VoicePipeline.Together.Emulator;

/// <summary>The emulator's Bearer-key check and Together-shaped error bodies, shared by every endpoint.</summary>
internal static class EmulatorAuth
{
    /// <summary>Whether the request carries an acceptable key (any non-empty one when the emulator has none set).</summary>
    public static bool IsAuthorized(HttpRequest request, TogetherEmulatorOptions options)
    {
        var header = request.Headers.Authorization.ToString();
        return IsAcceptedKey(header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null, options);
    }

    /// <summary>Whether <paramref name="key"/>, however it was presented, is acceptable (any non-empty one when the emulator has none set).</summary>
    public static bool IsAcceptedKey(string? key, TogetherEmulatorOptions options)
        => !string.IsNullOrEmpty(key) && (options.ApiKey is null || string.Equals(key, options.ApiKey, StringComparison.Ordinal));

    /// <summary>Answers 401 the way Together does.</summary>
    public static Task WriteUnauthorizedAsync(HttpResponse response)
        => WriteErrorAsync(response, StatusCodes.Status401Unauthorized, "invalid_request_error", "invalid_api_key", "Invalid API key provided.");

    /// <summary>Answers <c>{"error":{"message","type","code"}}</c> with <paramref name="status"/>.</summary>
    public static Task WriteErrorAsync(HttpResponse response, int status, string type, string code, string message)
        => WriteErrorAsync(response, status, type, code, message, param: null);

    /// <summary>Answers <c>{"error":{"message","type","param","code"}}</c> with <paramref name="status"/>, naming the faulty parameter.</summary>
    public static Task WriteErrorAsync(HttpResponse response, int status, string type, string code, string message, string? param)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        var body = new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = param, ["code"] = code } };
        return response.WriteAsync(body.ToJsonString());
    }
}
