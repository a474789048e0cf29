using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using VoicePipeline.Together.Transcriptions;

namespace VoicePipeline.Together.Client;

/// <summary>What every Together HTTP client shares: typed errors from error answers, and bounded retries.</summary>
internal static partial class TogetherHttp
{
    /// <summary>
    /// A retry of at most <see cref="TogetherClientOptions.MaxRetries"/> attempts for the errors <paramref name="shouldRetry"/>
    /// accepts, on the options' clock, with jittered exponential backoff from <see cref="TogetherClientOptions.RetryBaseDelay"/>,
    /// or the server's <c>Retry-After</c> when it sent one, capped at <see cref="TogetherClientOptions.MaxRetryAfter"/>;
    /// each retry is logged. No retries is the empty pipeline
    /// (Polly's retry takes at least one).
    /// </summary>
    public static ResiliencePipeline CreateRetry(TogetherClientOptions options, ILogger logger, Func<TogetherApiException, bool> shouldRetry)
        => options.MaxRetries == 0 ? ResiliencePipeline.Empty : new ResiliencePipelineBuilder { TimeProvider = options.TimeProvider }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle(shouldRetry),
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                DelayGenerator = args => ValueTask.FromResult((args.Outcome.Exception as TogetherApiException)?.RetryAfter is { } asked
                    ? asked > options.MaxRetryAfter ? options.MaxRetryAfter : asked
                    : (TimeSpan?)null),
                OnRetry = args =>
                {
                    Retrying(logger, args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception?.Message ?? "?");
                    return ValueTask.CompletedTask;
                },
            })
            .Build();

    /// <summary>Whether an error is worth retrying: rate limits, server errors, unreachable or silent servers.</summary>
    public static bool IsTransient(TogetherApiException exception)
        => exception.StatusCode is HttpStatusCode.TooManyRequests || (int?)exception.StatusCode >= 500 || exception.StatusCode is null && exception.ErrorCode is "connection_failed" or TimeoutCode;

    /// <summary>The error code of a request or stream the server let go quiet for too long.</summary>
    public const string TimeoutCode = "timeout";

    /// <summary>
    /// Runs one attempt of a request under <see cref="TogetherClientOptions.RequestTimeout"/> (restarted by the action
    /// on progress, through the <see cref="IdleTimeout"/> it gets): a server that goes quiet for longer fails the
    /// attempt with the transient code <see cref="TimeoutCode"/>.
    /// </summary>
    public static async Task<T> WithTimeoutAsync<T>(TogetherClientOptions options, string what, Func<IdleTimeout, Task<T>> action, CancellationToken cancellationToken)
    {
        using var idle = new IdleTimeout(options.RequestTimeout, options.TimeProvider, cancellationToken);
        try
        {
            return await action(idle).ConfigureAwait(false);
        }
        catch (OperationCanceledException exception) when (idle.Expired && !cancellationToken.IsCancellationRequested)
        {
            throw TimedOut(what, options.RequestTimeout, exception);
        }
    }

    /// <summary>The error of a request or stream that went quiet for <paramref name="timeout"/>.</summary>
    public static TogetherApiException TimedOut(string what, TimeSpan timeout, Exception? innerException = null)
        => new($"{what}: nothing from the server for {timeout.TotalSeconds:0.#} s.", null, TimeoutCode, null, innerException);

    /// <summary>
    /// Sends <paramref name="message"/> with the Bearer key and returns the response once its headers arrived (the body
    /// is read by the caller). An unreachable server is a <c>connection_failed</c> error (transient); an error answer
    /// becomes a <see cref="TogetherApiException"/> through <see cref="ToExceptionAsync"/>.
    /// </summary>
    public static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpRequestMessage message, string? apiKey, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException exception)
        {
            throw new TogetherApiException($"Could not reach {message.RequestUri!.GetLeftPart(UriPartial.Path)}: {exception.Message}", null, "connection_failed", null, exception);
        }
        if (response.IsSuccessStatusCode)
            return response;
        using (response)
            throw await ToExceptionAsync(response, timeProvider, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Turns an error answer into a <see cref="TogetherApiException"/> with the server's message, code and
    /// <c>Retry-After</c> (a date is read against <paramref name="timeProvider"/>'s clock).
    /// </summary>
    public static async Task<TogetherApiException> ToExceptionAsync(HttpResponseMessage response, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var status = response.StatusCode;
        var retryAfter = response.Headers.RetryAfter is { } header
            ? header.Delta ?? (header.Date is { } date ? (date > timeProvider.GetUtcNow() ? date - timeProvider.GetUtcNow() : TimeSpan.Zero) : null)
            : null;
        if (status == HttpStatusCode.RequestEntityTooLarge)
            return new TogetherApiException("HTTP 413: file too large (limit 500 MB)", status, "file_too_large", null);
        string? message = null, code = null, type = null;
        if (response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
        {
            try
            {
                var body = await response.Content.ReadFromJsonAsync(TranscriptionJsonContext.Default.ApiErrorBody, cancellationToken).ConfigureAwait(false);
                (message, code, type) = (body?.Error?.Message, body?.Error?.Code ?? body?.Error?.Type, body?.Error?.Type);
            }
            catch (JsonException)
            {
                // Not the documented shape: report the status alone.
            }
        }
        var text = $"HTTP {(int)status} {response.ReasonPhrase}{(message is null ? "" : ": " + message)}{(code is null ? "" : $" ({code})")}";
        return new TogetherApiException(text, status, code, type) { RetryAfter = retryAfter };
    }

    [LoggerMessage(EventId = 701, Level = LogLevel.Warning, Message = "Together request attempt {Attempt} in {Delay}: {Reason}")]
    private static partial void Retrying(ILogger logger, int attempt, TimeSpan delay, string reason);
}
