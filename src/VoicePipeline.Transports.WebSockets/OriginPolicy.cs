using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace VoicePipeline.Transports.WebSockets;

/// <summary>
/// Which browser pages may open a voice socket: the server's own origin and the allow-list. A request without an
/// <c>Origin</c> header is not a browser's (Twilio, command-line and server-side clients) and is accepted.
/// </summary>
public static class OriginPolicy
{
    /// <summary>Returns whether <paramref name="request"/>'s origin may open a socket.</summary>
    /// <param name="request">The upgrade request.</param>
    /// <param name="allowedOrigins">Origins allowed besides the server's own; <c>*</c> allows all.</param>
    /// <returns>Whether the request is allowed.</returns>
    public static bool IsAllowed(HttpRequest request, IEnumerable<string> allowedOrigins)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(allowedOrigins);
        var header = request.Headers.Origin;
        if (StringValues.IsNullOrEmpty(header))
            return true;
        var origin = header.ToString().TrimEnd('/');
        // Same origin: the page came from the host it connects to. The scheme is not compared, so a TLS proxy in front
        // (https page, http request here) still counts as the same origin.
        if (Uri.TryCreate(origin, UriKind.Absolute, out var uri) && request.Host.HasValue
            && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase))
            return true;
        foreach (var allowed in allowedOrigins)
        {
            if (allowed == "*" || Same(origin, allowed.TrimEnd('/')))
                return true;
        }
        return false;
    }

    private static bool Same(string origin, string other) => string.Equals(origin, other, StringComparison.OrdinalIgnoreCase);
}
