using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace VoicePipeline.Transports.WebSockets;

/// <summary>
/// A WebSocket server on Kestrel that runs a pipeline per connection: each client streams microphone audio in and hears
/// the pipeline's speech (see <see cref="WebSocketSession"/> for the wire). <c>GET /</c> serves a browser page that
/// captures the microphone, plays the replies and shows the transcripts.
/// </summary>
/// <example>
/// <code>
/// await using var server = await VoiceWebSocketServer.StartAsync(async session =>
/// {
///     var pipeline = new Pipeline(session.Input, new VadProcessor(new SileroVadAnalyzer()), stt, session.Output);
///     await new PipelineTask(pipeline).RunAsync(session.Stopping);
/// });
/// </code>
/// </example>
public sealed partial class VoiceWebSocketServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping;
    private readonly StrongBox<int> _sessions;
    private int _disposed;

    private VoiceWebSocketServer(WebApplication app, CancellationTokenSource stopping, StrongBox<int> sessions, Uri baseUrl, string path)
    {
        _app = app;
        _stopping = stopping;
        _sessions = sessions;
        BaseUrl = baseUrl;
        SocketUrl = new Uri(baseUrl.ToString().Replace("http", "ws", StringComparison.Ordinal).TrimEnd('/') + path);
    }

    /// <summary>Gets the server's address (the browser page is at its root).</summary>
    public Uri BaseUrl { get; }

    /// <summary>Gets the WebSocket endpoint's address.</summary>
    public Uri SocketUrl { get; }

    /// <summary>Gets how many connections are running their pipelines now.</summary>
    public int ActiveSessions => Volatile.Read(ref _sessions.Value);

    /// <summary>
    /// Starts listening and returns once the server accepts connections. <paramref name="runSession"/> runs once per
    /// connection, for as long as the connection's pipeline runs; the socket is closed when it returns.
    /// </summary>
    public static async Task<VoiceWebSocketServer> StartAsync(
        Func<WebSocketSession, Task> runSession,
        WebSocketServerOptions? options = null,
        ILoggerFactory? loggerFactory = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runSession);
        options ??= new WebSocketServerOptions();
        if (!options.Path.StartsWith('/'))
            throw new ArgumentException("The WebSocket path starts with '/'.", nameof(options));
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<VoiceWebSocketServer>();

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls(string.Create(CultureInfo.InvariantCulture, $"http://{options.Host}:{options.Port}"));
        var app = builder.Build();
        app.UseWebSockets();
        var stoppingAll = new CancellationTokenSource();
        var sessions = new StrongBox<int>();
        if (options.ServePage)
        {
            var page = Page(options);
            app.MapGet("/", () => Results.Content(page, "text/html; charset=utf-8"));
        }
        app.Map(options.Path, async context =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                await context.Response.WriteAsync("WebSocket requests only: PCM s16le mono audio in, audio and JSON events out.").ConfigureAwait(false);
                return;
            }
            using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
            using var stopping = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stoppingAll.Token);
            var session = new WebSocketSession(socket, options, context.TraceIdentifier, stopping.Token);
            Interlocked.Increment(ref sessions.Value);
            Log.SessionStarted(logger, session.Id);
            try
            {
                await runSession(session).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                // The server stopped or the client went away.
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
                Interlocked.Decrement(ref sessions.Value);
                Log.SessionEnded(logger, session.Id);
            }
        });
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new VoiceWebSocketServer(app, stoppingAll, sessions, new Uri(address.TrimEnd('/') + "/"), options.Path);
    }

    /// <summary>Stops the server: running sessions see <see cref="WebSocketSession.Stopping"/> fire and get 5 s to end.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private static string Page(WebSocketServerOptions options)
    {
        using var stream = typeof(VoiceWebSocketServer).Assembly.GetManifestResourceStream("VoicePipeline.Transports.WebSockets.index.html")!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd()
            .Replace("{{SOCKET_PATH}}", options.Path, StringComparison.Ordinal)
            .Replace("{{INPUT_RATE}}", options.InputSampleRate.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{{OUTPUT_RATE}}", options.OutputSampleRate.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 900, Level = LogLevel.Information, Message = "WebSocket session {Id} started")]
        public static partial void SessionStarted(ILogger logger, string id);

        [LoggerMessage(EventId = 901, Level = LogLevel.Information, Message = "WebSocket session {Id} ended")]
        public static partial void SessionEnded(ILogger logger, string id);

        [LoggerMessage(EventId = 902, Level = LogLevel.Error, Message = "WebSocket session {Id} failed")]
        public static partial void SessionFailed(ILogger logger, string id, Exception exception);
    }
}
