using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using VoicePipeline.Tests.Shared;

namespace VoicePipeline.Cli.Tests;

/// <summary><c>vp serve</c> as a real process: its address, the Twilio webhook, health, and the drain on SIGTERM.</summary>
public partial class ServeCommandTests
{
    private static readonly TimeSpan s_guard = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // as the Dockerfile runs it: socket completions and Kestrel's continuations on the I/O thread
    public async Task Serve_answers_TwiML_with_the_public_url_and_drains_live_sessions_on_SIGTERM(bool inlineSocketIo)
    {
        await using var serve = await ServeProcess.StartAsync(inlineSocketIo, "--port", "0", "--grace-period", "2", "--public-url", "https://voice.example.com", "--verbose");
        using var http = new HttpClient { BaseAddress = serve.BaseUrl };

        var twiml = await (await http.PostAsync("/twilio", content: null)).Content.ReadAsStringAsync();
        var page = await http.GetAsync("/");
        var twilioStream = await http.GetAsync("/twilio/ws");
        (await http.GetAsync("/healthz")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await http.GetAsync("/readyz")).StatusCode.Should().Be(HttpStatusCode.OK);
        using var live = new ClientWebSocket();
        await live.ConnectAsync(new Uri($"ws://{serve.BaseUrl.Authority}/ws"), CancellationToken.None);
        await live.SendAsync(new byte[3200], WebSocketMessageType.Binary, true, CancellationToken.None); // 100 ms of silence, then quiet
        await serve.WaitForStderrAsync("WebSocket session");

        var signalled = Stopwatch.StartNew();
        serve.Signal("TERM");
        await serve.WaitForStderrAsync("Draining");
        var ready = await http.GetAsync("/readyz");
        var closeStatus = await ReceiveCloseAsync(live);
        var exitCode = await serve.WaitForExitAsync(TimeSpan.FromSeconds(2 + 8));
        signalled.Stop();

        serve.StartupLines.Any(l => l.Contains("socket I/O completes inline", StringComparison.Ordinal)).Should().Be(inlineSocketIo, string.Join('\n', serve.StartupLines));
        twiml.Should().Contain("<Response><Connect><Stream url=\"wss://voice.example.com/twilio/ws\"/></Connect></Response>");
        page.StatusCode.Should().Be(HttpStatusCode.OK);
        twilioStream.StatusCode.Should().Be(HttpStatusCode.BadRequest, "the Twilio stream endpoint is mapped (WebSocket requests only)");
        ready.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "a draining server is not ready");
        closeStatus.Should().Be(WebSocketCloseStatus.EndpointUnavailable, "the live session is ended with 1001 after the grace period");
        exitCode.Should().Be(0, serve.Stderr);
        signalled.Elapsed.Should().BeGreaterThan(TimeSpan.FromSeconds(1.9), "the live session got its grace period")
            .And.BeLessThan(TimeSpan.FromSeconds(2 + 8), "the process exits within the grace period plus a few seconds");
    }

    [Fact]
    public async Task With_inline_socket_io_a_spoken_question_gets_a_final_transcript_and_a_spoken_reply()
    {
        await using var serve = await ServeProcess.StartAsync(inlineSocketIo: true, "--port", "0");
        using var live = new ClientWebSocket();
        await live.ConnectAsync(new Uri($"ws://{serve.BaseUrl.Authority}/ws"), CancellationToken.None);
        var audio = TestAudio.Concat(TestAudio.Speak("What is two plus three?"), TestAudio.Silence(2));
        var bytes = new byte[audio.Length * sizeof(short)];
        Buffer.BlockCopy(audio, 0, bytes, 0, bytes.Length);
        using var timeout = new CancellationTokenSource(s_guard);

        var received = ReceiveUntilAsync(live, timeout.Token);
        // A client at real time (the server refuses audio faster than 1.5x): 100 ms a message.
        using (var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(100)))
        {
            for (var offset = 0; offset < bytes.Length; offset += 3200)
            {
                await live.SendAsync(bytes.AsMemory(offset, Math.Min(3200, bytes.Length - offset)), WebSocketMessageType.Binary, true, timeout.Token);
                await pace.WaitForNextTickAsync(timeout.Token);
            }
        }
        var (events, replyBytes) = await received;

        events.Should().Contain(e => e.Contains("\"type\":\"transcript\"", StringComparison.Ordinal) && e.Contains("\"final\":true", StringComparison.Ordinal) && e.Contains("three", StringComparison.OrdinalIgnoreCase));
        events.Should().Contain(e => e.Contains("\"type\":\"bot_text\",\"text\":\"You\"", StringComparison.Ordinal), "the reply (the emulator says what it heard) is spoken word by word");
        replyBytes.Should().BeGreaterThanOrEqualTo(ReplyBytes);

        // Reads events and the bot's audio until the reply is heard (its text and half a second of its speech).
        static async Task<(List<string> Events, int ReplyBytes)> ReceiveUntilAsync(ClientWebSocket client, CancellationToken token)
        {
            var events = new List<string>();
            var replyBytes = 0;
            var buffer = new byte[64 * 1024];
            while (replyBytes < ReplyBytes || !events.Any(e => e.Contains("\"type\":\"bot_text\"", StringComparison.Ordinal)))
            {
                var message = await client.ReceiveAsync(buffer.AsMemory(), token);
                var length = message.Count;
                while (!message.EndOfMessage)
                {
                    message = await client.ReceiveAsync(buffer.AsMemory(length), token);
                    length += message.Count;
                }
                if (message.MessageType == WebSocketMessageType.Close)
                    break;
                if (message.MessageType == WebSocketMessageType.Binary)
                    replyBytes += length;
                else
                    events.Add(Encoding.UTF8.GetString(buffer, 0, length));
            }
            return (events, replyBytes);
        }
    }

    private const int ReplyBytes = 24_000 * sizeof(short) / 2; // 500 ms of the bot's 24 kHz speech

    private static async Task<WebSocketCloseStatus?> ReceiveCloseAsync(ClientWebSocket client)
    {
        using var timeout = new CancellationTokenSource(s_guard);
        var buffer = new byte[16 * 1024];
        try
        {
            while ((await client.ReceiveAsync(buffer, timeout.Token)).MessageType != WebSocketMessageType.Close)
            {
            }
            await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token); // as browsers answer
        }
        catch (WebSocketException)
        {
            // Aborted: CloseStatus stays null.
        }
        return client.CloseStatus;
    }

    /// <summary>A running <c>vp serve</c>: its address (from the line it prints) and its stderr, line by line.</summary>
    private sealed partial class ServeProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly Channel<string> _stderrLines = Channel.CreateUnbounded<string>();
        private readonly StringBuilder _stderr = new();

        private ServeProcess(Process process, Uri baseUrl)
        {
            _process = process;
            BaseUrl = baseUrl;
        }

        public Uri BaseUrl { get; }

        public string Stderr
        {
            get
            {
                lock (_stderr)
                    return _stderr.ToString();
            }
        }

        /// <summary>What it printed before its address.</summary>
        public List<string> StartupLines { get; } = [];

        public static async Task<ServeProcess> StartAsync(bool inlineSocketIo, params string[] arguments)
        {
            var info = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
                WorkingDirectory = CliRunner.RepositoryRoot,
            };
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "vp.dll"));
            info.ArgumentList.Add("serve");
            foreach (var a in arguments)
                info.ArgumentList.Add(a);
            info.Environment.Remove("TOGETHER_API_KEY");
            info.Environment["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = inlineSocketIo ? "1" : "0";
            var process = Process.Start(info)!;
            using var timeout = new CancellationTokenSource(s_guard);
            var startup = new List<string>();
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                var match = Address().Match(line);
                if (!match.Success)
                {
                    startup.Add(line);
                }
                else
                {
                    var serve = new ServeProcess(process, new Uri(match.Value));
                    serve.StartupLines.AddRange(startup);
                    _ = serve.PumpStderrAsync();
                    _ = process.StandardOutput.ReadToEndAsync();
                    return serve;
                }
            }
            throw new InvalidOperationException($"vp serve printed no address: {await process.StandardError.ReadToEndAsync()}");
        }

        public void Signal(string signal)
        {
            using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        }

        public async Task WaitForStderrAsync(string text)
        {
            using var timeout = new CancellationTokenSource(s_guard);
            await foreach (var line in _stderrLines.Reader.ReadAllAsync(timeout.Token))
            {
                if (line.Contains(text, StringComparison.Ordinal))
                    return;
            }
            throw new InvalidOperationException($"vp serve ended without logging '{text}': {Stderr}");
        }

        public async Task<int> WaitForExitAsync(TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"vp serve did not exit within {timeout}: {Stderr}");
            }
            return _process.ExitCode;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
            _process.Dispose();
        }

        private async Task PumpStderrAsync()
        {
            while (await _process.StandardError.ReadLineAsync() is { } line)
            {
                lock (_stderr)
                    _stderr.AppendLine(line);
                _stderrLines.Writer.TryWrite(line);
            }
            _stderrLines.Writer.TryComplete();
        }

        [GeneratedRegex(@"http://[0-9.]+:[0-9]+")]
        private static partial Regex Address();
    }
}
