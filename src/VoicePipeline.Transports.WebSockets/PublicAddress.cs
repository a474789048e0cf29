using Microsoft.AspNetCore.Http;

namespace VoicePipeline.Transports.WebSockets;

/// <summary>The address clients on the internet reach this server at, for URLs handed to them (Twilio's stream URL).</summary>
public static class PublicAddress
{
    /// <summary>
    /// Returns <c>wss://HOST/PATH</c>: the host of <paramref name="publicUrl"/> when given, otherwise the request's
    /// (the first <c>X-Forwarded-Host</c> behind a proxy, else <c>Host</c>). Always <c>wss</c>: Twilio requires it,
    /// and a server reached over plain HTTP only through a TLS proxy (<c>X-Forwarded-Proto: https</c>) is still wss outside.
    /// </summary>
    /// <param name="request">The request being answered.</param>
    /// <param name="publicUrl">The configured public address, if any (its path prefixes <paramref name="path"/>).</param>
    /// <param name="path">The WebSocket route.</param>
    /// <returns>The WebSocket URL.</returns>
    public static Uri StreamUrl(HttpRequest request, Uri? publicUrl, string path)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(path);
        string authority;
        var prefix = "";
        if (publicUrl is not null)
        {
            authority = publicUrl.Authority;
            prefix = publicUrl.AbsolutePath.TrimEnd('/');
        }
        else
        {
            var forwarded = request.Headers["X-Forwarded-Host"].ToString();
            authority = string.IsNullOrWhiteSpace(forwarded) ? request.Host.Value ?? "localhost" : forwarded.Split(',')[0].Trim();
        }
        return new Uri($"wss://{authority}{prefix}/{path.TrimStart('/')}");
    }
}
