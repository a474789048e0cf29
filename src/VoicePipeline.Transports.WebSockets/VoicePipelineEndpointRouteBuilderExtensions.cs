using System.Globalization;
using System.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VoicePipeline.Transports.WebSockets;
using VoicePipeline.Transports.WebSockets.Serializers;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// Mounts voice endpoints in any ASP.NET Core app (register their services with <c>services.AddVoicePipelineServer()</c>).
/// Each returns its convention builder, so <c>RequireAuthorization()</c>, <c>RequireCors(...)</c> and the rest apply.
/// </summary>
public static partial class VoicePipelineEndpointRouteBuilderExtensions
{
    private const string LoggerName = "VoicePipeline.Transports.WebSockets.VoicePipelineEndpoint";

    /// <summary>
    /// Maps a WebSocket endpoint that runs <paramref name="runSession"/> once per connection (see
    /// <see cref="WebSocketSession"/> for the wire). Before a connection is accepted: a browser <c>Origin</c> that is
    /// neither the server's own nor allowed is refused with 403, so is a connection the authorization hook refuses;
    /// a full, draining or lagging server answers 503 with <c>Retry-After</c>. A plain HTTP request gets 400.
    /// </summary>
    /// <param name="endpoints">The app.</param>
    /// <param name="pattern">The route, e.g. <c>/ws</c>.</param>
    /// <param name="runSession">Runs one connection's pipeline (for example with <see cref="WebSocketSession.RunPipelineAsync"/>); the socket closes when it returns.</param>
    /// <param name="serializer">Makes each connection's wire; null for the project's raw PCM + JSON events (<see cref="RawPcmSerializer"/>).</param>
    /// <returns>The endpoint's convention builder.</returns>
    public static IEndpointConventionBuilder MapVoicePipeline(this IEndpointRouteBuilder endpoints, string pattern, Func<WebSocketSession, Task> runSession, Func<IFrameSerializer>? serializer = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(runSession);
        var state = State(endpoints);
        var logger = Logger(endpoints);
        var options = state.Options;
        // The WebSocket middleware runs inside the endpoint, so the app need not call UseWebSockets.
        var app = endpoints.CreateApplicationBuilder().UseWebSockets();
        app.Run(context => RunConnectionAsync(context, state, options, logger, runSession, serializer));
        return endpoints.Map(pattern, app.Build()).WithDisplayName("Voice pipeline " + pattern);
    }

    /// <summary>
    /// Maps <c>/healthz</c> (200 while the process runs) and <c>/readyz</c> (200 while new sessions are accepted; 503
    /// while draining, full or lagging past <see cref="VoicePipelineServerOptions.MaxSchedulingLag"/>).
    /// </summary>
    /// <param name="endpoints">The app.</param>
    /// <param name="healthPath">The liveness route.</param>
    /// <param name="readyPath">The readiness route.</param>
    /// <returns>The convention builder of both endpoints.</returns>
    public static IEndpointConventionBuilder MapVoicePipelineHealth(this IEndpointRouteBuilder endpoints, string healthPath = "/healthz", string readyPath = "/readyz")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var state = State(endpoints);
        var group = endpoints.MapGroup("");
        group.MapGet(healthPath, () => Results.Text("ok"));
        group.MapGet(readyPath, () => state.IsReady
            ? Results.Text("ready")
            : Results.Text(state.IsDraining ? "draining" : state.IsLagging ? "lagging" : "full", statusCode: StatusCodes.Status503ServiceUnavailable));
        return group;
    }

    /// <summary>Maps the browser page that captures the microphone, talks to <paramref name="socketPath"/> and plays the replies.</summary>
    /// <param name="endpoints">The app.</param>
    /// <param name="pattern">The page's route, e.g. <c>/</c>.</param>
    /// <param name="socketPath">The route of the <see cref="MapVoicePipeline"/> endpoint the page connects to.</param>
    /// <returns>The endpoint's convention builder.</returns>
    public static IEndpointConventionBuilder MapVoicePipelinePage(this IEndpointRouteBuilder endpoints, string pattern, string socketPath)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var page = Page(State(endpoints).Options, socketPath);
        return endpoints.MapGet(pattern, () => Results.Content(page, "text/html; charset=utf-8"));
    }

    /// <summary>
    /// Maps Twilio's voice webhook: <c>POST</c> answers the TwiML <c>&lt;Connect&gt;&lt;Stream url="wss://HOST/STREAM"/&gt;&lt;/Connect&gt;</c>
    /// that starts a bidirectional Media Stream to <paramref name="streamPath"/>. The host is <paramref name="publicUrl"/>'s
    /// when given, otherwise the request's (<c>X-Forwarded-Host</c> behind a proxy, else <c>Host</c>).
    /// </summary>
    /// <param name="endpoints">The app.</param>
    /// <param name="pattern">The webhook's route, e.g. <c>/twilio</c>.</param>
    /// <param name="streamPath">The Media Streams WebSocket route, e.g. <c>/twilio/ws</c>.</param>
    /// <param name="publicUrl">The address the server is reached at from the internet, if known.</param>
    /// <returns>The endpoint's convention builder.</returns>
    public static IEndpointConventionBuilder MapTwilioConnect(this IEndpointRouteBuilder endpoints, string pattern, string streamPath, Uri? publicUrl = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(streamPath);
        return endpoints.MapPost(pattern, (HttpRequest request) =>
        {
            var url = PublicAddress.StreamUrl(request, publicUrl, streamPath);
            var twiml = $"""<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="{SecurityElement.Escape(url.ToString())}"/></Connect></Response>""";
            return Results.Content(twiml, "text/xml; charset=utf-8");
        });
    }

    private static async Task RunConnectionAsync(HttpContext context, VoicePipelineServerState state, VoicePipelineServerOptions options, ILogger logger, Func<WebSocketSession, Task> runSession, Func<IFrameSerializer>? serializer)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("WebSocket requests only: PCM s16le mono audio in, audio and JSON events out.").ConfigureAwait(false);
            return;
        }
        if (!OriginPolicy.IsAllowed(context.Request, options.AllowedOrigins))
        {
            Log.OriginRefused(logger, context.Request.Headers.Origin.ToString(), context.Request.Path);
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }
        if (options.Authorize is { } authorize && !await authorize(context).ConfigureAwait(false))
        {
            Log.Unauthorized(logger, context.Request.Path);
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }
        if (!state.TryAcquire())
        {
            Log.Refused(logger, state.IsDraining ? "draining" : state.ActiveSessions >= options.MaxSessions ? "full" : "lagging", state.ActiveSessions);
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(options.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return;
        }
        try
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
            var session = new WebSocketSession(socket, options, context.TraceIdentifier, context.RequestAborted, state.Stopping, state.Ending, logger, serializer);
            Log.SessionStarted(logger, session.Id, state.ActiveSessions);
            try
            {
                await runSession(session).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (session.Stopping.IsCancellationRequested)
            {
                // The server stopped, the client went away or a limit ended the session.
            }
#pragma warning disable CA1031 // One connection's failure must not take the server down; it is logged.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                Log.SessionFailed(logger, session.Id, exception);
            }
            finally
            {
                await session.CloseAsync().ConfigureAwait(false);
                Log.SessionEnded(logger, session.Id);
            }
        }
        finally
        {
            state.Release();
        }
    }

    private static VoicePipelineServerState State(IEndpointRouteBuilder endpoints)
        => endpoints.ServiceProvider.GetService<VoicePipelineServerState>()
           ?? throw new InvalidOperationException("Call services.AddVoicePipelineServer() before mapping voice endpoints.");

    private static ILogger Logger(IEndpointRouteBuilder endpoints)
        => endpoints.ServiceProvider.GetService<ILoggerFactory>()?.CreateLogger(LoggerName) ?? NullLogger.Instance;

    private static string Page(VoicePipelineServerOptions options, string socketPath)
    {
        using var stream = typeof(VoicePipelineServerOptions).Assembly.GetManifestResourceStream("VoicePipeline.Transports.WebSockets.index.html")!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd()
            .Replace("{{SOCKET_PATH}}", socketPath, StringComparison.Ordinal)
            .Replace("{{INPUT_RATE}}", options.InputSampleRate.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{{OUTPUT_RATE}}", options.OutputSampleRate.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 900, Level = LogLevel.Information, Message = "WebSocket session {Id} started ({Sessions} running)")]
        public static partial void SessionStarted(ILogger logger, string id, int sessions);

        [LoggerMessage(EventId = 901, Level = LogLevel.Information, Message = "WebSocket session {Id} ended")]
        public static partial void SessionEnded(ILogger logger, string id);

        [LoggerMessage(EventId = 902, Level = LogLevel.Error, Message = "WebSocket session {Id} failed")]
        public static partial void SessionFailed(ILogger logger, string id, Exception exception);

        [LoggerMessage(EventId = 903, Level = LogLevel.Warning, Message = "Refused a WebSocket from origin {Origin} on {Path} with 403: neither same-origin nor allowed")]
        public static partial void OriginRefused(ILogger logger, string origin, string path);

        [LoggerMessage(EventId = 904, Level = LogLevel.Warning, Message = "Refused a WebSocket on {Path} with 403: the authorization hook said no")]
        public static partial void Unauthorized(ILogger logger, string path);

        [LoggerMessage(EventId = 905, Level = LogLevel.Warning, Message = "Refused a session with 503 ({Reason}, {Sessions} running)")]
        public static partial void Refused(ILogger logger, string reason, int sessions);
    }
}
