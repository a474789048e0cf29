using System.Buffers;
using System.Net;
using System.Net.WebSockets;

namespace VoicePipeline.Together.Client;

/// <summary>Opens Together WebSockets: Bearer header, and a refused handshake as a typed error that never shows the key.</summary>
internal static class TogetherWebSocket
{
    /// <summary>Connects to <paramref name="uri"/> with the key as a Bearer header.</summary>
    /// <exception cref="TogetherApiException">The server could not be reached or refused the handshake (with its status and <c>Retry-After</c>).</exception>
    public static async Task<ClientWebSocket> ConnectAsync(Uri uri, string apiKey, IEnumerable<KeyValuePair<string, string>>? headers, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + apiKey);
        foreach (var (name, value) in headers ?? [])
            socket.Options.SetRequestHeader(name, value);
        socket.Options.CollectHttpResponseDetails = true;
        var safeUri = uri.GetLeftPart(UriPartial.Path);
        try
        {
            await socket.ConnectAsync(uri, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch (OperationCanceledException)
        {
            socket.Dispose();
            throw;
        }
        catch (WebSocketException exception)
        {
            var status = socket.HttpStatusCode;
            TimeSpan? retryAfter = socket.HttpResponseHeaders?.TryGetValue("Retry-After", out var values) == true
                && int.TryParse(values.FirstOrDefault(), out var seconds) ? TimeSpan.FromSeconds(seconds) : null;
            socket.Dispose();
            throw status == 0
                ? new TogetherApiException($"Could not connect to {safeUri}: {exception.Message}", null, "connection_failed", null, exception)
                : new TogetherApiException($"The WebSocket handshake with {safeUri} was refused: HTTP {(int)status} {status}.", status, StatusCode(status), null, exception) { RetryAfter = retryAfter };
        }
    }

    /// <summary>
    /// Reads one whole message into <paramref name="buffer"/> (emptied first), or stops as soon as the buffer holds more
    /// than <paramref name="maxBytes"/>: what an oversized message means is the caller's to decide.
    /// </summary>
    public static async ValueTask<ValueWebSocketReceiveResult> ReceiveMessageAsync(this WebSocket socket, ArrayBufferWriter<byte> buffer, int maxBytes, CancellationToken cancellationToken)
    {
        buffer.ResetWrittenCount();
        ValueWebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer.GetMemory(16 * 1024), cancellationToken).ConfigureAwait(false);
            buffer.Advance(result.Count);
        }
        while (!result.EndOfMessage && buffer.WrittenCount <= maxBytes);
        return result;
    }

    /// <summary>The error code a refused handshake's status stands for.</summary>
    public static string StatusCode(HttpStatusCode status) => status switch
    {
        HttpStatusCode.Unauthorized => "invalid_api_key",
        HttpStatusCode.Forbidden => "forbidden",
        HttpStatusCode.TooManyRequests => "rate_limit_exceeded",
        HttpStatusCode.BadRequest => "invalid_request",
        _ => "server_error",
    };
}
