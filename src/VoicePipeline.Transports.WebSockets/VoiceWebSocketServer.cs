using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

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
public sealed class VoiceWebSocketServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly VoicePipelineServerState _state;
    private readonly Lock _gate = new();
    private Task? _stopped;
    private int _disposed;

    private VoiceWebSocketServer(WebApplication app, VoicePipelineServerState state, Uri baseUrl, string path)
    {
        _app = app;
        _state = state;
        BaseUrl = baseUrl;
        SocketUrl = new Uri(baseUrl.ToString().Replace("http", "ws", StringComparison.Ordinal).TrimEnd('/') + path);
    }

    /// <summary>Gets the server's address (the browser page is at its root).</summary>
    public Uri BaseUrl { get; }

    /// <summary>Gets the WebSocket endpoint's address.</summary>
    public Uri SocketUrl { get; }

    /// <summary>Gets how many connections are running their pipelines now.</summary>
    public int ActiveSessions => _state.ActiveSessions;

    /// <summary>Gets whether new sessions are accepted (what <c>/readyz</c> answers).</summary>
    public bool IsReady => _state.IsReady;

    /// <summary>
    /// Starts listening and returns once the server accepts connections. <paramref name="runSession"/> runs once per
    /// connection, for as long as the connection's pipeline runs; the socket is closed when it returns. The server is
    /// an ASP.NET Core app with <c>MapVoicePipeline</c> at <see cref="WebSocketServerOptions.Path"/>,
    /// <c>/healthz</c>, <c>/readyz</c> and (optionally) the page at <c>/</c>.
    /// </summary>
    /// <param name="runSession">Runs one connection's pipeline.</param>
    /// <param name="options">Where to listen, what the sockets carry and their limits.</param>
    /// <param name="loggerFactory">Where the server logs.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running server.</returns>
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
        options.Validate();

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (loggerFactory is not null)
            builder.Services.AddSingleton(loggerFactory);
        builder.WebHost.UseKestrel().UseUrls(string.Create(CultureInfo.InvariantCulture, $"http://{options.Host}:{options.Port}"));
        builder.Services.AddVoicePipelineServer(options.CopyTo);
        var app = builder.Build();
        if (options.ServePage)
            app.MapVoicePipelinePage("/", options.Path);
        app.MapVoicePipelineHealth();
        app.MapVoicePipeline(options.Path, runSession, options.Serializer);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new VoiceWebSocketServer(app, app.Services.GetRequiredService<VoicePipelineServerState>(), new Uri(address.TrimEnd('/') + "/"), options.Path);
    }

    /// <summary>
    /// Stops gracefully: new sessions are refused (<c>/readyz</c> answers 503), live ones get
    /// <see cref="VoicePipelineServerOptions.DrainGracePeriod"/> to finish, then are ended with an <c>EndFrame</c> and
    /// a 1001 close.
    /// </summary>
    /// <param name="cancellationToken">Cuts the drain short (the sessions are then cancelled).</param>
    /// <returns>A task that completes when the server stopped.</returns>
    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
            return _stopped ??= _app.StopAsync(cancellationToken);
    }

    /// <summary>Stops the server at once: running sessions see <see cref="WebSocketSession.Stopping"/> fire and get 5 s to end.</summary>
    /// <returns>A task that completes when the server is gone.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await _state.AbortAsync().ConfigureAwait(false);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await StopAsync(timeout.Token).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
