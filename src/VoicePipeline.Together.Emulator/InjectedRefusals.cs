using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace VoicePipeline.Together.Emulator;

/// <summary>
/// Refusals an endpoint injects before serving, for tests of clients: the next requests (or WebSocket handshakes) are
/// answered with the queued statuses, in order, with Together's error bodies.
/// </summary>
public abstract class InjectedRefusals
{
    private readonly Queue<int> _statuses = new();

    /// <summary>Gets or sets the <c>Retry-After</c> seconds sent with 429 and 503.</summary>
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>Answers the next requests with these statuses (429, 413, 503, ...), in order, before serving normally.</summary>
    public void FailNext(params int[] statuses)
    {
        ArgumentNullException.ThrowIfNull(statuses);
        lock (_statuses)
        {
            foreach (var status in statuses)
                _statuses.Enqueue(status);
        }
    }

    /// <summary>Answers the request with the next queued status, if any; true when it did.</summary>
    internal async Task<bool> TryRefuseAsync(HttpResponse response)
    {
        int status;
        lock (_statuses)
        {
            if (!_statuses.TryDequeue(out status))
                return false;
        }
        await WriteAsync(response, status).ConfigureAwait(false);
        return true;
    }

    private Task WriteAsync(HttpResponse response, int status)
    {
        if (status == 413)
        {
            // Together's edge answers 413 with an HTML page, not JSON.
            response.StatusCode = 413;
            response.ContentType = "text/html";
            return response.WriteAsync("<html><head><title>413 Request Entity Too Large</title></head><body><center><h1>413 Request Entity Too Large</h1></center></body></html>");
        }
        if (status is 429 or 503)
            response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        var (type, code, message) = status switch
        {
            429 => ("rate_limit_error", "rate_limit_exceeded", "Rate limit exceeded."),
            503 => ("server_error", "service_unavailable", "No capacity, retry later."),
            401 => ("invalid_request_error", "invalid_api_key", "Invalid API key provided."),
            _ when status >= 500 => ("server_error", "internal_error", $"Injected failure ({status})."),
            _ => ("invalid_request_error", "invalid_request", $"Injected failure ({status})."),
        };
        return EmulatorAuth.WriteErrorAsync(response, status, type, code, message);
    }
}
