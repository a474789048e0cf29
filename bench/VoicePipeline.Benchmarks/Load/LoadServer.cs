using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VoicePipeline.Cli.Commands;
using VoicePipeline.Frames;
using VoicePipeline.Together.Realtime;
using VoicePipeline.Transports.WebSockets;

namespace VoicePipeline.Benchmarks.Load;

/// <summary>
/// The server side of the load benchmarks, in this process: <c>vp serve</c>'s host and per-session pipeline
/// (<see cref="ServeAgent"/>) against the emulator in a process of its own (<see cref="LoadEmulator"/>),
/// plus a probe in the STT service that measures how long each input frame took from the moment its audio was due at
/// the socket (the client's <c>t0</c> + its end in audio time) to taken by the STT client;
/// and, on its own port, a bare Kestrel WebSocket echo (the baseline) that measures the same lag on arrival.
/// </summary>
internal sealed class LoadServer : IAsyncDisposable
{
    private static readonly TimeSpan s_commandTimeout = TimeSpan.FromMinutes(1);
    private readonly HelperProcess _emulator;
    private readonly WebApplication _app;
    private readonly WebApplication _echo;
    private readonly ServeAgent _agent;
    private long _framesSeen;

    private LoadServer(HelperProcess emulator, WebApplication app, WebApplication echo, ServeAgent agent)
    {
        _emulator = emulator;
        _app = app;
        _echo = echo;
        _agent = agent;
        State = app.Services.GetRequiredService<VoicePipelineServerState>();
        Url = new Uri(WebSocketAddress(app) + "ws");
        EchoUrl = new Uri(WebSocketAddress(echo) + "echo");
    }

    public Uri Url { get; }

    public Uri EchoUrl { get; }

    public VoicePipelineServerState State { get; }

    public Vad.Silero.SileroVadBatcher VadBatcher => _agent.VadBatcher;

    /// <summary>Input frames: from due at the socket to out of the STT service (the pipeline) or to read (the echo).</summary>
    public LagHistogram FrameLag { get; } = new();

    public LagHistogram EchoLag { get; } = new();

    public long FramesSeen => Interlocked.Read(ref _framesSeen);

    /// <summary>Gets the audio the emulator's realtime endpoint received, in 20 ms frames, over every connection it still lists, and the emulator's CPU so far.</summary>
    public async Task<(long Frames, TimeSpan Cpu)> EmulatorStatsAsync()
    {
        var stats = await _emulator.SendAsync("stats", s_commandTimeout);
        return (stats.GetProperty("frames").GetInt64(), TimeSpan.FromMilliseconds(stats.GetProperty("cpu_ms").GetDouble()));
    }

    /// <summary>
    /// Gets the emulator's frames once they stop changing: the sessions' last appends can still be on their way to the
    /// other process when the sessions have ended here.
    /// </summary>
    public async Task<long> SettledEmulatorFramesAsync()
    {
        var frames = (await EmulatorStatsAsync()).Frames;
        for (var i = 0; i < 50; i++)
        {
            await Task.Delay(100);
            var now = (await EmulatorStatsAsync()).Frames;
            if (now == frames)
                break;
            frames = now;
        }
        return frames;
    }

    /// <param name="maxSessions">The server's session limit.</param>
    /// <param name="keepLogs">The emulator's request logs kept: the load benchmark counts the audio every connection received; soak and churn keep few, so the logs do not look like growth.</param>
    public static async Task<LoadServer> StartAsync(int maxSessions, int keepLogs = 100_000)
    {
        var (emulator, emulatorUrl) = await HelperProcess.StartEmulatorAsync(keepLogs);
        var builder = ServeAgent.CreateBuilder("127.0.0.1", 0, NullLoggerFactory.Instance, o => o.MaxSessions = maxSessions);
        builder.Services.AddHttpContextAccessor();
        var app = builder.Build();
        var agent = new ServeAgent(emulatorUrl, "load", "You are a helpful, brief voice assistant.", Together.Chat.TogetherChat.DefaultModel,
            Together.Speech.TogetherTtsOptions.DefaultVoice, NullLoggerFactory.Instance);
        var server = (LoadServer?)null;
        var accessor = app.Services.GetRequiredService<IHttpContextAccessor>();
        agent.MapEndpoints(app, publicAddress: null, (session, agentSession) =>
        {
            // The probe is the STT service's own callback: it sees each audio frame once the service has it, on the
            // service's loop, so the harness adds no hop to what vp serve runs.
            var t0 = long.Parse(accessor.HttpContext!.Request.Query["t0"].ToString(), CultureInfo.InvariantCulture);
            agentSession.Processors.OfType<TogetherSttService>().Single().AudioTaken = new FrameLagProbe(server!, t0).Record;
            return session.RunPipelineAsync(agentSession.Processors, agentSession.TaskOptions, agentSession.AfterOutput);
        });
        await app.StartAsync();

        var echoBuilder = WebApplication.CreateSlimBuilder();
        echoBuilder.Logging.ClearProviders();
        echoBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        ServeAgent.UseSocketScheduling(echoBuilder.WebHost); // scheduled as vp serve's host is
        var echo = echoBuilder.Build();
        echo.UseWebSockets();
        echo.Map("/echo", context => EchoAsync(context, server!));
        await echo.StartAsync();

        server = new LoadServer(emulator, app, echo, agent);
        return server;
    }

    /// <summary>Waits until no session runs (or <paramref name="timeout"/> passes); returns how many still run.</summary>
    public async Task<int> WaitIdleAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (State.ActiveSessions > 0 && Stopwatch.GetTimestamp() < deadline)
            await Task.Delay(100);
        return State.ActiveSessions;
    }

    public async ValueTask DisposeAsync()
    {
        await _echo.StopAsync();
        await _echo.DisposeAsync();
        await State.AbortAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _agent.Dispose();
        _emulator.Dispose();
    }

    private static string WebSocketAddress(WebApplication app)
        => app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().Replace("http://", "ws://", StringComparison.Ordinal).TrimEnd('/') + "/";

    private static double LagMs(long t0, long message, long now)
        => (now - t0 - (message + 1) * (Stopwatch.Frequency / 50)) * 1000.0 / Stopwatch.Frequency;

    /// <summary>The baseline: reads each message and sends it back, nothing else.</summary>
    private static async Task EchoAsync(HttpContext context, LoadServer server)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        var t0 = long.Parse(context.Request.Query["t0"].ToString(), CultureInfo.InvariantCulture);
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[16 * 1024];
        long messages = 0;
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), context.RequestAborted);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                    return;
                }
                if (result.EndOfMessage)
                    server.EchoLag.Record(LagMs(t0, messages++, Stopwatch.GetTimestamp()));
                await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, context.RequestAborted);
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
        {
            // The client went away.
        }
    }

    /// <summary>Records each input audio frame's lag, from due at the socket to taken by the STT service.</summary>
    private sealed class FrameLagProbe(LoadServer server, long t0)
    {
        public void Record(InputAudioRawFrame frame)
        {
            if (frame.PresentationTimestamp is not { } pts)
                return;
            server.FrameLag.Record(LagMs(t0, (long)(pts / LoadAudio.MessageDuration), Stopwatch.GetTimestamp()));
            Interlocked.Increment(ref server._framesSeen);
        }
    }
}
