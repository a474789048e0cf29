using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Channels;

namespace VoicePipeline.Cli.Tests;

/// <summary><c>vp serve</c>'s telemetry as a real process: Prometheus <c>/metrics</c> and OTLP export.</summary>
public partial class ServeCommandTests
{
    [Fact]
    public async Task Metrics_show_the_active_sessions_going_from_0_to_1_and_back_to_0_across_a_session()
    {
        await using var serve = await ServeProcess.StartAsync(inlineSocketIo: true, "--port", "0", "--verbose");
        using var http = new HttpClient { BaseAddress = serve.BaseUrl };

        var before = await http.GetAsync("/metrics");
        var idle = await before.Content.ReadAsStringAsync();
        using var live = new ClientWebSocket();
        await live.ConnectAsync(new Uri($"ws://{serve.BaseUrl.Authority}/ws"), CancellationToken.None);
        await live.SendAsync(new byte[3200], WebSocketMessageType.Binary, true, CancellationToken.None);
        await serve.WaitForStderrAsync("WebSocket session");
        var during = await ActiveSessionsAsync(http);
        await live.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        await ReceiveCloseAsync(live);
        var after = await WaitForActiveSessionsAsync(http, 0);

        before.StatusCode.Should().Be(HttpStatusCode.OK);
        before.Content.Headers.ContentType!.MediaType.Should().Be("text/plain", "Prometheus' text format");
        idle.Should().Contain("# TYPE voicepipeline_sessions_active gauge", "the name deploy/kubernetes/hpa.yaml scales on");
        ParseActiveSessions(idle).Should().Be(0, "no session before the first client");
        during.Should().Be(1, "the session runs");
        after.Should().Be(0, "the session ended");
    }

    [Fact]
    public async Task Otlp_exports_the_conversation_span_and_the_meter_to_a_collector_over_http_protobuf()
    {
        await using var collector = OtlpReceiver.Start();
        await using var serve = await ServeProcess.StartAsync(inlineSocketIo: true, "--port", "0", "--otlp", collector.BaseUrl.ToString(), "--verbose");
        using (var live = new ClientWebSocket())
        {
            await live.ConnectAsync(new Uri($"ws://{serve.BaseUrl.Authority}/ws"), CancellationToken.None);
            await live.SendAsync(new byte[3200], WebSocketMessageType.Binary, true, CancellationToken.None);
            await serve.WaitForStderrAsync("WebSocket session");
            await live.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
            await ReceiveCloseAsync(live);
        }
        await serve.WaitForStderrAsync("ended");
        serve.Signal("TERM"); // the host's shutdown flushes the exporters
        var exitCode = await serve.WaitForExitAsync(TimeSpan.FromSeconds(30 + 10));

        exitCode.Should().Be(0, serve.Stderr);
        var requests = collector.Received();
        var traces = requests.Where(r => r.Path == "/v1/traces").ToList();
        traces.Should().NotBeEmpty("the conversation span was exported");
        traces.Should().OnlyContain(r => r.ContentType == "application/x-protobuf");
        var spans = string.Concat(traces.Select(r => Encoding.UTF8.GetString(r.Body)));
        spans.Should().Contain("conversation").And.Contain("conversation.id").And.Contain("VoicePipeline").And.Contain("vp-serve");
        var metrics = requests.Where(r => r.Path == "/v1/metrics").ToList();
        metrics.Should().NotBeEmpty("the meter was exported");
        string.Concat(metrics.Select(r => Encoding.UTF8.GetString(r.Body))).Should().Contain("voicepipeline.sessions.active");
    }

    [Fact]
    public async Task An_otlp_value_that_is_not_an_http_url_is_refused()
    {
        var result = await CliRunner.RunAsync("serve", "--port", "0", "--otlp", "file:///etc/passwd");

        result.ExitCode.Should().Be(2);
        result.Stderr.Should().Contain("--otlp").And.Contain("not an absolute http(s) URL");
    }

    private static async Task<long> ActiveSessionsAsync(HttpClient http)
        => ParseActiveSessions(await http.GetStringAsync("/metrics"));

    /// <summary>The server releases a session's slot after it closed the socket: poll until the gauge shows it.</summary>
    private static async Task<long> WaitForActiveSessionsAsync(HttpClient http, long expected)
    {
        using var timeout = new CancellationTokenSource(s_guard);
        long value;
        while ((value = await ActiveSessionsAsync(http)) != expected && !timeout.IsCancellationRequested)
            await Task.Delay(20, CancellationToken.None);
        return value;
    }

    private static long ParseActiveSessions(string exposition)
    {
        var match = ActiveSessionsLine().Match(exposition);
        match.Success.Should().BeTrue($"/metrics shows voicepipeline_sessions_active: {exposition}");
        return long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^voicepipeline_sessions_active(?:\{[^}]*\})? (\d+)", RegexOptions.Multiline)]
    private static partial Regex ActiveSessionsLine();

    private sealed record OtlpRequest(string Path, string? ContentType, byte[] Body);

    /// <summary>A collector's OTLP/HTTP receiver, as small as it gets: records every POST, answers 200.</summary>
    private sealed class OtlpReceiver : IAsyncDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Channel<OtlpRequest> _requests = Channel.CreateUnbounded<OtlpRequest>();
        private readonly Task _loop;

        private OtlpReceiver()
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            BaseUrl = new Uri($"http://127.0.0.1:{port}/");
            _listener.Prefixes.Add(BaseUrl.ToString());
            _listener.Start();
            _loop = Task.Run(LoopAsync);
        }

        public Uri BaseUrl { get; }

        public static OtlpReceiver Start() => new();

        public List<OtlpRequest> Received()
        {
            var all = new List<OtlpRequest>();
            while (_requests.Reader.TryRead(out var request))
                all.Add(request);
            return all;
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            await _loop;
            _listener.Close();
        }

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception exception) when (exception is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                _requests.Writer.TryWrite(new OtlpRequest(context.Request.Url!.AbsolutePath, context.Request.ContentType, body.ToArray()));
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
                context.Response.Close();
            }
        }
    }
}
