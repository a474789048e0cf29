using System.Net;
using VoicePipeline.Frames;

namespace VoicePipeline.Together.Client;

/// <summary>An error answered by the Together API (or a compatible server).</summary>
/// <remarks>The message never contains the API key.</remarks>
public class TogetherApiException : Exception
{
    /// <summary>Creates an exception for an API error.</summary>
    public TogetherApiException(string message, HttpStatusCode? statusCode = null, string? errorCode = null, string? errorType = null, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        ErrorCode = errorCode;
        ErrorType = errorType;
    }

    /// <summary>Creates an exception with a message.</summary>
    public TogetherApiException(string message) : base(message) { }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    public TogetherApiException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Gets the HTTP status of the answer, when there was one.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>Gets the snake_case error code (for example <c>invalid_api_key</c>), when the server sent one.</summary>
    public string? ErrorCode { get; }

    /// <summary>Gets the error type the server sent, when it sent one.</summary>
    public string? ErrorType { get; }

    /// <summary>Gets how long the server asked the client to wait before retrying (<c>Retry-After</c>), when it did.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>Gets whether retrying the same request can never succeed (authentication, authorization, invalid request).</summary>
    public bool IsPermanent => Category is ErrorCategory.Authentication or ErrorCategory.Authorization or ErrorCategory.InvalidRequest;

    /// <summary>Gets the error category derived from the status and code.</summary>
    public ErrorCategory Category => StatusCode switch
    {
        HttpStatusCode.Unauthorized => ErrorCategory.Authentication,
        HttpStatusCode.Forbidden => ErrorCategory.Authorization,
        HttpStatusCode.TooManyRequests => ErrorCategory.RateLimit,
        HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.RequestEntityTooLarge
            or HttpStatusCode.UnprocessableEntity or HttpStatusCode.UnsupportedMediaType => ErrorCategory.InvalidRequest,
        >= HttpStatusCode.InternalServerError => ErrorCategory.Server,
        null => ErrorCode switch
        {
            "invalid_api_key" or "missing_api_key" => ErrorCategory.Authentication,
            "rate_limit_exceeded" or "rate_limited" => ErrorCategory.RateLimit,
            _ => ErrorCategory.Server,
        },
        _ => ErrorCategory.Unknown,
    };
}
