using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using VoicePipeline.Frames;
using VoicePipeline.Pipelines;
using VoicePipeline.Processors;
using VoicePipeline.Testing;
using VoicePipeline.Transports.WebSockets.Serializers;

namespace VoicePipeline.Transports.WebSockets.Tests;

/// <summary>The limits that make the server safe to expose, over real sockets.</summary>
public class ServerLimitsTests
{
    private static readonly TimeSpan s_guard = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_cross_site_origin_is_refused_with_403_while_same_origin_allowed_and_no_origin_are_accepted()
    {
        var options = new WebSocketServerOptions { Port = 0 };
        options.AllowedOrigins.Add("https://app.example.com");
        await using var server = await VoiceWebSocketServer.StartAsync(session => session.RunPipelineAsync([new AudioEcho()]), options);

        var crossSite = await ConnectAsync(server.SocketUrl, "https://evil.example.net");
        var sameOrigin = await ConnectAsync(server.SocketUrl, server.BaseUrl.GetLeftPart(UriPartial.Authority));
        var allowed = await ConnectAsync(server.SocketUrl, "https://app.example.com");
        var noOrigin = await ConnectAsync(server.SocketUrl, origin: null);

        crossSite.Status.Should().Be(HttpStatusCode.Forbidden);
        sameOrigin.Status.Should().Be(HttpStatusCode.SwitchingProtocols);
        allowed.Status.Should().Be(HttpStatusCode.SwitchingProtocols);
        noOrigin.Status.Should().Be(HttpStatusCode.SwitchingProtocols, "Twilio, command-line and server clients send no Origin");
        foreach (var client in new[] { crossSite, sameOrigin, allowed, noOrigin })
            client.Client.Dispose();
    }

    [Fact]
    public async Task The_authorization_hook_refuses_with_403()
    {
        var options = new WebSocketServerOptions { Port = 0, Authorize = context => ValueTask.FromResult(context.Request.Query["token"] == "s3cret") };
        await using var server = await VoiceWebSocketServer.StartAsync(session => session.RunPipelineAsync([new AudioEcho()]), options);

        var refused = await ConnectAsync(new Uri(server.SocketUrl + "?token=guess"), origin: null);
        var accepted = await ConnectAsync(new Uri(server.SocketUrl + "?token=s3cret"), origin: null);

        refused.Status.Should().Be(HttpStatusCode.Forbidden);
        accepted.Status.Should().Be(HttpStatusCode.SwitchingProtocols);
        refused.Client.Dispose();
        accepted.Client.Dispose();
    }

    [Fact]
    public async Task Sessions_beyond_the_maximum_get_503_with_Retry_After_and_readyz_says_full()
    {
        var started = new SemaphoreSlim(0);
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await VoiceWebSocketServer.StartAsync(async session =>
        {
            started.Release();
            await session.RunPipelineAsync([new AudioEcho()]);
            ended.TrySetResult();
        }, new WebSocketServerOptions { Port = 0, MaxSessions = 1, RetryAfter = TimeSpan.FromSeconds(7) });
        using var http = new HttpClient { BaseAddress = server.BaseUrl };

        (await http.GetAsync("/readyz")).StatusCode.Should().Be(HttpStatusCode.OK);
        var first = await ConnectAsync(server.SocketUrl, origin: null);
        (await started.WaitAsync(s_guard)).Should().BeTrue();
        var second = await ConnectAsync(server.SocketUrl, origin: null);
        var ready = await http.GetAsync("/readyz");
        var health = await http.GetAsync("/healthz");

        first.Status.Should().Be(HttpStatusCode.SwitchingProtocols);
        second.Status.Should().Be(HttpStatusCode.ServiceUnavailable);
        second.Client.HttpResponseHeaders!["Retry-After"].Should().Equal("7");
        ready.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await ready.Content.ReadAsStringAsync()).Should().Be("full");
        health.StatusCode.Should().Be(HttpStatusCode.OK);

        await first.Client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        await ended.Task.WaitAsync(s_guard);
        await ReceiveUntilCloseAsync(first.Client);
        server.ActiveSessions.Should().Be(0);
        (await http.GetAsync("/readyz")).StatusCode.Should().Be(HttpStatusCode.OK, "a slot is free again");
        first.Client.Dispose();
        second.Client.Dispose();
    }

    [Fact]
    public async Task A_server_lagging_past_its_maximum_scheduling_lag_refuses_new_sessions_with_503_until_it_catches_up()
    {
        var time = new FakeTimeProvider();
        await using var server = await VoiceWebSocketServer.StartAsync(session => session.RunPipelineAsync([new AudioEcho()]),
            new WebSocketServerOptions { Port = 0, MaxSessions = 100, MaxSchedulingLag = TimeSpan.FromMilliseconds(100), TimeProvider = time });
        using var http = new HttpClient { BaseAddress = server.BaseUrl };
        var before = await ConnectAsync(server.SocketUrl, origin: null);

        time.Advance(TimeSpan.FromMilliseconds(250 + 400)); // the lag probe, due after 250 ms, ran 400 ms late
        var lagging = await ConnectAsync(server.SocketUrl, origin: null);
        var ready = await http.GetAsync("/readyz");
        for (var i = 0; i < 4; i++)
            time.Advance(TimeSpan.FromMilliseconds(250)); // a second of probes on time: the lag is over
        var after = await ConnectAsync(server.SocketUrl, origin: null);

        before.Status.Should().Be(HttpStatusCode.SwitchingProtocols);
        lagging.Status.Should().Be(HttpStatusCode.ServiceUnavailable, "one session below the maximum, but the server lags");
        lagging.Client.HttpResponseHeaders!.Should().ContainKey("Retry-After");
        ready.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await ready.Content.ReadAsStringAsync()).Should().Be("lagging");
        after.Status.Should().Be(HttpStatusCode.SwitchingProtocols);
        foreach (var client in new[] { before, lagging, after })
            client.Client.Dispose();
    }

    [Fact]
    public async Task A_client_sending_in_real_time_is_never_closed_but_one_sending_as_fast_as_it_can_is_closed_with_1008()
    {
        var time = new FakeTimeProvider();
        await using var server = await VoiceWebSocketServer.StartAsync(
            session => session.RunPipelineAsync([new AudioEcho()]),
            new WebSocketServerOptions { Port = 0, TimeProvider = time, OutputSampleRate = 16_000 });
        var chunk = new byte[3200]; // 100 ms at 16 kHz

        using var steady = new ClientWebSocket();
        await steady.ConnectAsync(server.SocketUrl, CancellationToken.None);
        var buffer = new byte[64 * 1024];
        for (var i = 0; i < 300; i++) // 30 s of audio: each 100 ms of it sent once the previous came back, then 100 ms pass
        {
            await steady.SendAsync(chunk, WebSocketMessageType.Binary, true, CancellationToken.None);
            for (var echoed = 0; echoed < chunk.Length;)
            {
                var received = await steady.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask().WaitAsync(s_guard);
                received.MessageType.Should().Be(WebSocketMessageType.Binary, "the server keeps the real-time client");
                echoed += received.Count;
            }
            time.Advance(TimeSpan.FromMilliseconds(100));
        }
        await steady.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        var (steadyStatus, _, steadyBytes) = await ReceiveUntilCloseAsync(steady);

        using var fast = new ClientWebSocket();
        await fast.ConnectAsync(server.SocketUrl, CancellationToken.None);
        var closed = ReceiveUntilCloseAsync(fast);
        await SendUntilClosedAsync(fast, chunk, maxMessages: 1000, closed);
        var (status, description, _) = await closed;

        steadyStatus.Should().Be(WebSocketCloseStatus.NormalClosure);
        steadyBytes.Should().Be(0, "all of the real-time client's audio was echoed as it went");
        status.Should().Be(WebSocketCloseStatus.PolicyViolation);
        description.Should().Contain("1.5x real time");
    }

    [Fact]
    public async Task A_fast_sender_is_closed_with_1008_and_the_server_memory_stays_bounded()
    {
        var logs = new FakeLogCollector();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(new FakeLoggerProvider(logs)));
        await using var server = await VoiceWebSocketServer.StartAsync(
            session => session.RunPipelineAsync([new AudioEcho()]),
            new WebSocketServerOptions { Port = 0 }, loggerFactory);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var peak = before;
        var chunk = new byte[32_000]; // 1 s of audio per message, as fast as the socket takes them

        using var client = new ClientWebSocket();
        await client.ConnectAsync(server.SocketUrl, CancellationToken.None);
        var closed = ReceiveUntilCloseAsync(client);
        var started = TimeProvider.System.GetTimestamp();
        var sent = 0L;
        while (!closed.IsCompleted && TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(10))
        {
            try
            {
                await client.SendAsync(chunk, WebSocketMessageType.Binary, true, CancellationToken.None);
                sent += chunk.Length;
            }
            catch (WebSocketException)
            {
                break;
            }
            peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: false));
        }
        var (status, _, _) = await closed.WaitAsync(s_guard);
        var elapsed = TimeProvider.System.GetElapsedTime(started);

        status.Should().Be(WebSocketCloseStatus.PolicyViolation);
        elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10), "the limit acts within a few seconds, not never");
        (peak - before).Should().BeLessThan(64L << 20, $"one session's memory has a ceiling (the client pushed {sent >> 10} KB)");
        logs.GetSnapshot().Should().Contain(r => r.Id.Id == 921, "the close is logged");
    }

    [Fact]
    public async Task A_message_larger_than_the_maximum_is_closed_with_1009()
    {
        await using var server = await VoiceWebSocketServer.StartAsync(
            session => session.RunPipelineAsync([new AudioEcho()]),
            new WebSocketServerOptions { Port = 0, MaxMessageBytes = 64 * 1024 });
        using var client = new ClientWebSocket();
        await client.ConnectAsync(server.SocketUrl, CancellationToken.None);

        await client.SendAsync(new byte[60 * 1024], WebSocketMessageType.Binary, true, CancellationToken.None); // under the limit
        var echo = await client.ReceiveAsync(new byte[64 * 1024].AsMemory(), CancellationToken.None).AsTask().WaitAsync(s_guard);
        var closed = ReceiveUntilCloseAsync(client);
        await client.SendAsync(new byte[100 * 1024], WebSocketMessageType.Binary, true, CancellationToken.None);
        var (status, _, _) = await closed.WaitAsync(s_guard);

        echo.MessageType.Should().Be(WebSocketMessageType.Binary, "the message under the limit was taken");
        status.Should().Be(WebSocketCloseStatus.MessageTooBig);
    }

    [Fact]
    public async Task An_idle_client_is_closed_after_the_idle_timeout()
    {
        var time = new FakeTimeProvider();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await VoiceWebSocketServer.StartAsync(session =>
        {
            started.SetResult();
            return session.RunPipelineAsync([new AudioEcho()]);
        }, new WebSocketServerOptions { Port = 0, TimeProvider = time, IdleTimeout = TimeSpan.FromSeconds(30) });
        using var client = new ClientWebSocket();
        await client.ConnectAsync(server.SocketUrl, CancellationToken.None);
        var closed = ReceiveUntilCloseAsync(client);
        await started.Task.WaitAsync(s_guard);

        time.Advance(TimeSpan.FromSeconds(29));
        var earlyClose = closed.IsCompleted;
        time.Advance(TimeSpan.FromSeconds(1));
        var (status, description, _) = await closed.WaitAsync(s_guard);

        earlyClose.Should().BeFalse();
        status.Should().Be(WebSocketCloseStatus.NormalClosure);
        description.Should().Be("idle timeout");
    }

    [Fact]
    public async Task The_idle_timeout_counts_from_the_last_message_received()
    {
        var time = new FakeTimeProvider();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await VoiceWebSocketServer.StartAsync(session =>
        {
            started.SetResult();
            return session.RunPipelineAsync([new AudioEcho()]);
        }, new WebSocketServerOptions { Port = 0, TimeProvider = time, IdleTimeout = TimeSpan.FromSeconds(30), Output = new() { RealTime = false } });
        using var client = new ClientWebSocket();
        await client.ConnectAsync(server.SocketUrl, CancellationToken.None);
        await started.Task.WaitAsync(s_guard);

        time.Advance(TimeSpan.FromSeconds(20));
        var first = await EchoAsync(client);
        time.Advance(TimeSpan.FromSeconds(20)); // 40 s after the start, 20 s after the message: still open
        var second = await EchoAsync(client);
        var closed = ReceiveUntilCloseAsync(client);
        time.Advance(TimeSpan.FromSeconds(29));
        var earlyClose = closed.IsCompleted;
        time.Advance(TimeSpan.FromSeconds(1)); // 30 s after the last message
        var (status, description, _) = await closed.WaitAsync(s_guard);

        first.Should().Be(WebSocketMessageType.Binary);
        second.Should().Be(WebSocketMessageType.Binary, "a message 20 s in restarts the 30 s, so the session was open at 40 s");
        earlyClose.Should().BeFalse();
        status.Should().Be(WebSocketCloseStatus.NormalClosure);
        description.Should().Be("idle timeout");

        static async Task<WebSocketMessageType> EchoAsync(ClientWebSocket client)
        {
            await client.SendAsync(new byte[640], WebSocketMessageType.Binary, true, CancellationToken.None);
            var buffer = new byte[4096];
            while (true)
            {
                var received = await client.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask().WaitAsync(s_guard);
                if (received.MessageType != WebSocketMessageType.Text) // the wire's events are text; the echo is audio
                    return received.MessageType;
            }
        }
    }

    [Fact]
    public async Task A_session_is_closed_at_the_maximum_session_length()
    {
        var time = new FakeTimeProvider();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await VoiceWebSocketServer.StartAsync(session =>
        {
            started.SetResult();
            return session.RunPipelineAsync([new AudioEcho()]);
        }, new WebSocketServerOptions { Port = 0, TimeProvider = time, MaxSessionLength = TimeSpan.FromMinutes(10), IdleTimeout = TimeSpan.FromHours(1) });
        using var client = new ClientWebSocket();
        await client.ConnectAsync(server.SocketUrl, CancellationToken.None);
        var closed = ReceiveUntilCloseAsync(client);
        await started.Task.WaitAsync(s_guard);

        time.Advance(TimeSpan.FromMinutes(10));
        var (status, description, _) = await closed.WaitAsync(s_guard);

        status.Should().Be(WebSocketCloseStatus.NormalClosure);
        description.Should().Be("maximum session length");
    }

    [Fact]
    public async Task A_client_that_stops_reading_is_dropped_after_the_send_timeout()
    {
        var logs = new FakeLogCollector();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(new FakeLoggerProvider(logs)));
        var ended = new TaskCompletionSource<PipelineCompletion>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await VoiceWebSocketServer.StartAsync(
            async session => ended.SetResult(await session.RunPipelineAsync([new Flood()])),
            new WebSocketServerOptions { Port = 0, SendTimeout = TimeSpan.FromSeconds(1), Output = new() { RealTime = false } }, loggerFactory); // sent as fast as the socket takes it, so it fills at once
        using var client = new ClientWebSocket();
        await client.ConnectAsync(server.SocketUrl, CancellationToken.None);

        await client.SendAsync(new byte[640], WebSocketMessageType.Binary, true, CancellationToken.None); // then never reads

        (await ended.Task.WaitAsync(s_guard)).Should().Be(PipelineCompletion.Cancelled, "the session ends although the client never closes");
        logs.GetSnapshot().Should().Contain(r => r.Id.Id == 924);
        server.ActiveSessions.Should().Be(0);
    }

    [Fact]
    public async Task StopAsync_drains_refuses_new_sessions_and_ends_live_ones_with_an_EndFrame_and_1001_after_the_grace_period()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ended = new TaskCompletionSource<PipelineCompletion>(TaskCreationOptions.RunContinuationsAsynchronously);
        var disposed = new Disposed();
        await using var server = await VoiceWebSocketServer.StartAsync(async session =>
        {
            started.SetResult();
            ended.SetResult(await session.RunPipelineAsync([new AudioEcho(), disposed]));
        }, new WebSocketServerOptions { Port = 0, DrainGracePeriod = TimeSpan.FromSeconds(2) });
        using var http = new HttpClient { BaseAddress = server.BaseUrl };
        using var client = new ClientWebSocket();
        await client.ConnectAsync(server.SocketUrl, CancellationToken.None);
        var closed = ReceiveUntilCloseAsync(client);
        await started.Task.WaitAsync(s_guard);

        var stopStarted = TimeProvider.System.GetTimestamp();
        var stopping = server.StopAsync();
        var ready = await http.GetAsync("/readyz");
        var refused = await ConnectAsync(server.SocketUrl, origin: null);
        var (status, _, _) = await closed.WaitAsync(s_guard);
        await stopping.WaitAsync(s_guard);
        var stopTook = TimeProvider.System.GetElapsedTime(stopStarted);

        ready.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await ready.Content.ReadAsStringAsync()).Should().Be("draining");
        refused.Status.Should().Be(HttpStatusCode.ServiceUnavailable);
        status.Should().Be(WebSocketCloseStatus.EndpointUnavailable);
        (await ended.Task.WaitAsync(s_guard)).Should().Be(PipelineCompletion.Ended, "the live session ended with an EndFrame");
        disposed.Count.Should().Be(1, "the session's processors are disposed when it ends");
        stopTook.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(1.9)).And.BeLessThan(TimeSpan.FromSeconds(8));
        refused.Client.Dispose();
    }

    [Fact]
    public async Task MapVoicePipeline_mounts_in_any_app_under_its_own_route_and_the_TwiML_stream_url_follows_the_request_or_its_proxy()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddVoicePipelineServer(o => o.OutputSampleRate = 16_000);
        await using var app = builder.Build();
        var mapped = app.MapVoicePipeline("/api/voice", session => session.RunPipelineAsync([new AudioEcho()]));
        var conventions = 0;
        mapped.Add(_ => conventions++);
        app.MapTwilioConnect("/twilio", "/twilio/ws");
        await app.StartAsync();
        var address = new Uri(app.Urls.First());
        using var http = new HttpClient { BaseAddress = address };
        var direct = await (await http.PostAsync("/twilio", content: null)).Content.ReadAsStringAsync();
        using var proxied = new HttpRequestMessage(HttpMethod.Post, "/twilio");
        proxied.Headers.Add("X-Forwarded-Host", "voice.example.org");
        proxied.Headers.Add("X-Forwarded-Proto", "https");
        var behindProxy = await (await http.SendAsync(proxied)).Content.ReadAsStringAsync();

        using var client = new ClientWebSocket();
        await client.ConnectAsync(new Uri($"ws://{address.Authority}/api/voice"), CancellationToken.None);
        var closed = ReceiveUntilCloseAsync(client);
        await client.SendAsync(new byte[3200], WebSocketMessageType.Binary, true, CancellationToken.None);
        await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        var (status, _, echoed) = await closed.WaitAsync(s_guard);
        await app.StopAsync();

        status.Should().Be(WebSocketCloseStatus.NormalClosure);
        echoed.Should().Be(3200);
        conventions.Should().Be(1, "the endpoint takes conventions such as RequireAuthorization");
        direct.Should().Contain($"<Response><Connect><Stream url=\"wss://{address.Authority}/twilio/ws\"/></Connect></Response>");
        behindProxy.Should().Contain("<Stream url=\"wss://voice.example.org/twilio/ws\"/>");
    }

    private static async Task<(ClientWebSocket Client, HttpStatusCode Status)> ConnectAsync(Uri url, string? origin)
    {
        var client = new ClientWebSocket();
        client.Options.CollectHttpResponseDetails = true;
        if (origin is not null)
            client.Options.SetRequestHeader("Origin", origin);
        try
        {
            await client.ConnectAsync(url, CancellationToken.None);
        }
        catch (WebSocketException)
        {
            // The status says why.
        }
        return (client, client.HttpStatusCode);
    }

    /// <summary>Reads until the server closes (and answers the close, as browsers do): the close status, its description and how many bytes arrived.</summary>
    private static async Task<(WebSocketCloseStatus? Status, string? Description, long Bytes)> ReceiveUntilCloseAsync(ClientWebSocket client)
    {
        using var timeout = new CancellationTokenSource(s_guard);
        var buffer = new byte[64 * 1024];
        long bytes = 0;
        try
        {
            while (true)
            {
                var received = await client.ReceiveAsync(buffer, timeout.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    if (client.State == WebSocketState.CloseReceived)
                        await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
                    return (client.CloseStatus, client.CloseStatusDescription, bytes);
                }
                if (received.MessageType == WebSocketMessageType.Binary)
                    bytes += received.Count;
            }
        }
        catch (WebSocketException)
        {
            return (client.CloseStatus, client.CloseStatusDescription, bytes);
        }
    }

    [Fact]
    public async Task A_twilio_caller_sending_faster_than_real_time_is_closed_with_1008_too()
    {
        // Twilio's audio rides in JSON text messages: the rate is counted on the audio the serializer decodes.
        var time = new FakeTimeProvider();
        await using var server = await VoiceWebSocketServer.StartAsync(
            session => session.RunPipelineAsync([]),
            new WebSocketServerOptions { Port = 0, TimeProvider = time, Serializer = () => new TwilioFrameSerializer() });
        using var caller = new ClientWebSocket();
        await caller.ConnectAsync(server.SocketUrl, CancellationToken.None);
        var closed = ReceiveUntilCloseAsync(caller);
        await SendTextAsync(caller, """{"event":"connected","protocol":"Call","version":"1.0.0"}""");
        await SendTextAsync(caller, """{"event":"start","sequenceNumber":"1","start":{"streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"MZ1"}""");
        var payload = Convert.ToBase64String(Enumerable.Repeat((byte)0xFF, 160).ToArray()); // 20 ms of mu-law silence

        for (var i = 0; i < 2000 && !closed.IsCompleted; i++) // 40 s of audio while the clock stands still
        {
            try
            {
                await SendTextAsync(caller, $$"""{"event":"media","sequenceNumber":"{{i + 2}}","media":{"track":"inbound","chunk":"{{i + 1}}","timestamp":"{{i * 20}}","payload":"{{payload}}"},"streamSid":"MZ1"}""");
            }
            catch (WebSocketException)
            {
                break;
            }
        }
        var (status, description, _) = await closed.WaitAsync(s_guard);

        status.Should().Be(WebSocketCloseStatus.PolicyViolation);
        description.Should().Contain("faster than");
    }

    private static Task SendTextAsync(ClientWebSocket socket, string json)
        => socket.SendAsync(System.Text.Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, CancellationToken.None);

    private static async Task SendUntilClosedAsync(ClientWebSocket client, byte[] chunk, int maxMessages, Task closed)
    {
        for (var i = 0; i < maxMessages; i++)
        {
            if (closed.IsCompleted)
                return;
            try
            {
                await client.SendAsync(chunk, WebSocketMessageType.Binary, true, CancellationToken.None);
            }
            catch (WebSocketException)
            {
                return;
            }
        }
    }

    /// <summary>Answers the first input frame with 400 s of bot audio (1 s frames at 24 kHz): far more than socket buffers hold.</summary>
    private sealed class Flood : FrameProcessor
    {
        private readonly byte[] _second = new byte[48_000];
        private int _flooding;

        protected override async ValueTask ProcessSystemFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
        {
            await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
            if (frame is InputAudioRawFrame && Interlocked.Exchange(ref _flooding, 1) == 0)
            {
                for (var i = 0; i < 400; i++)
                    await PushFrameAsync(new OutputAudioRawFrame(_second, 24_000, 1), FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Counts its disposals.</summary>
    private sealed class Disposed : FrameProcessor
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        protected override ValueTask DisposeAsyncCore()
        {
            Interlocked.Increment(ref _count);
            return ValueTask.CompletedTask;
        }
    }
}
