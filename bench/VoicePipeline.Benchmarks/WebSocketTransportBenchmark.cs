using System.Diagnostics;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VoicePipeline.Pipelines;
using VoicePipeline.Testing;
using VoicePipeline.Transports.WebSockets;

namespace VoicePipeline.Benchmarks;

/// <summary>
/// The WebSocket server transport: one 20 ms frame from a client through the connection's pipeline (input, an echo,
/// output) and back, beside a bare Kestrel WebSocket echo of the same message over the same loopback.
/// </summary>
internal sealed class WebSocketTransportBenchmark : IHotPathBenchmark
{
    private const int RoundTrips = 2_000;

    public string Name => "websocket";

    public async Task<int> RunAsync(bool json, string[] args)
    {
        await using var server = await VoiceWebSocketServer.StartAsync(async session =>
        {
            await using var task = new PipelineTask(new Pipeline(session.Input, new AudioEcho(), session.Output));
            await task.RunAsync(session.Stopping);
        }, new WebSocketServerOptions { Port = 0, OutputSampleRate = 16_000, Output = new() { RealTime = false } }); // the transport's cost, not real-time playout
        var (bare, bareUrl) = await BareEchoAsync();
        await using var _ = bare;

        var frame = new byte[640];
        var pipeline = new long[RoundTrips];
        var raw = new long[RoundTrips];
        using var viaPipeline = new ClientWebSocket();
        await viaPipeline.ConnectAsync(server.SocketUrl, CancellationToken.None);
        using var viaBare = new ClientWebSocket();
        await viaBare.ConnectAsync(new Uri(bareUrl.Replace("http", "ws", StringComparison.Ordinal) + "/echo"), CancellationToken.None);
        var reply = new byte[4096];
        for (var i = -200; i < RoundTrips; i++) // interleaved, so a slow spell of the machine hits both
        {
            var t = await RoundTripAsync(viaPipeline, frame, reply);
            var r = await RoundTripAsync(viaBare, frame, reply);
            if (i >= 0)
            {
                pipeline[i] = t;
                raw[i] = r;
            }
        }
        await viaPipeline.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        await viaBare.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);

        BenchmarkReport.Print(json, "WebSocket server transport, one 20 ms frame (640 bytes) round trip over loopback", [
            ("roundtrip_p50_us", BenchmarkReport.PercentileMicroseconds(pipeline, 50)),
            ("roundtrip_p99_us", BenchmarkReport.PercentileMicroseconds(pipeline, 99)),
            ("raw_ws_echo_p50_us", BenchmarkReport.PercentileMicroseconds(raw, 50)),
            ("raw_ws_echo_p99_us", BenchmarkReport.PercentileMicroseconds(raw, 99)),
        ], "the figure is the client's frame through input -> echo -> output and back; raw is a bare Kestrel WebSocket echo");
        return 0;
    }

    private static async Task<long> RoundTripAsync(ClientWebSocket client, byte[] frame, byte[] reply)
    {
        var start = Stopwatch.GetTimestamp();
        await client.SendAsync(frame, WebSocketMessageType.Binary, true, CancellationToken.None);
        var received = 0;
        while (received < frame.Length)
            received += (await client.ReceiveAsync(reply.AsMemory(received), CancellationToken.None)).Count;
        return Stopwatch.GetTimestamp() - start;
    }

    private static async Task<(WebApplication App, string Url)> BareEchoAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.UseWebSockets();
        app.Map("/echo", async context =>
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[4096];
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                if (received.MessageType == WebSocketMessageType.Close)
                    return;
                await socket.SendAsync(buffer.AsMemory(0, received.Count), WebSocketMessageType.Binary, received.EndOfMessage, CancellationToken.None);
            }
        });
        await app.StartAsync();
        return (app, app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/'));
    }
}
