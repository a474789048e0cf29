using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Playwright;
using VoicePipeline.Tests.Shared;
using VoicePipeline.Transports.WebSockets.Rtvi;
using VoicePipeline.Transports.WebSockets.Serializers;

namespace VoicePipeline.Transports.WebSockets.Tests;

/// <summary>
/// The acceptance test of the Pipecat wire: Pipecat's published web client (<c>@pipecat-ai/client-js</c> and
/// <c>@pipecat-ai/websocket-transport</c> with its <c>ProtobufFrameSerializer</c>, from npm, unmodified, bundled by esbuild)
/// runs in Debian's headless Chromium with a fake microphone playing a LibriVox recording, against a server pipeline of
/// Silero VAD, the Together STT, LLM and TTS services (on the in-process emulator) and RTVI.
/// </summary>
public class PipecatClientTests
{

    [Fact]
    public async Task The_Pipecat_web_client_gets_bot_ready_its_transcript_bot_text_and_bot_audio()
    {
        var bundle = await PipecatClientBundle.BuildAsync();
        await using var agent = await EmulatedVoiceAgent.StartAsync();
        var rtviProcessors = new List<RtviProcessor>();
        var logs = new FakeLogCollector();
        using var loggerFactory = new LoggerFactory([new FakeLoggerProvider(logs)]);
        // The page comes from a real loopback server (Chromium's local network access checks refuse a page of unknown
        // origin address that opens a socket to 127.0.0.1); its origin is another port, so the server allows it.
        using var pageServer = PageServer.Start(bundle.Page, bundle.Script);
        var pageUrl = pageServer.Url;
        await using var server = await VoiceWebSocketServer.StartAsync(session =>
        {
            var rtvi = new RtviProcessor();
            lock (rtviProcessors)
                rtviProcessors.Add(rtvi);
            return agent.RunAsync(session, rtvi, options => options.Observers.Add(rtvi.Observer), loggerFactory);
        }, new WebSocketServerOptions { Port = 0, Path = "/pipecat/ws", Serializer = () => new ProtobufFrameSerializer(), AllowedOrigins = { pageUrl.GetLeftPart(UriPartial.Authority) } }, loggerFactory);

        // A LibriVox recording from pocketsphinx-testdata, with silence around it so the VAD hears the turn end.
        var recording = Directory.GetFiles(TestAudio.LibriVoxDirectory, "*.wav").Order().ElementAt(1);
        const string sentence = "he was not an ill disposed young man";
        var microphone = TestAudio.WriteWav(TestAudio.TempPath(".wav"),
            TestAudio.Concat(TestAudio.Silence(1.0, 48_000), TestAudio.Decode(recording, 48_000), TestAudio.Silence(6.0, 48_000)), 48_000);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright, microphone);
        var page = await browser.NewPageAsync();
        var console = new List<string>();
        page.Console += (_, message) => { lock (console) console.Add($"{message.Type}: {message.Text}"); };
        await page.GotoAsync(pageUrl.ToString());

        BotReady botReady;
        try
        {
            botReady = Parse<BotReady>(await page.EvaluateAsync<string>("async url => JSON.stringify(await window.startPipecat(url))", server.SocketUrl.ToString()));
        }
        catch (PlaywrightException exception)
        {
            Assert.Fail($"connecting failed: {exception.Message}\n{Logs(console, logs)}");
            throw;
        }
        var finished = "() => { const s = window.pipecatTest; return s.transcripts.some(t => t.final) && s.botTtsText.length > 0 && s.botAudioSamples > 24000; }";
        try
        {
            await page.WaitForFunctionAsync(finished, null, new PageWaitForFunctionOptions { Timeout = 90_000, PollingInterval = 100 });
        }
        catch (TimeoutException)
        {
            var state = await page.EvaluateAsync<string>("() => JSON.stringify(window.pipecatTest)");
            Assert.Fail($"the client did not get everything: {state}\n{Logs(console, logs)}");
        }
        // The microphone loops the recording, and a pause may split a turn: the sentence is looked for in runs of
        // consecutive final transcripts, waiting for the next final while it is not there yet (at most 60 s). The speech
        // reaches PocketSphinx through Chromium's capture processing (the recorder asks for echo cancellation, noise
        // suppression and gain control) and the recorder's resampling, which cost PocketSphinx words ("what else was
        // young man" was heard once): the check is that the recording's words arrive, at least three of its eight.
        var result = Parse<ClientState>(await page.EvaluateAsync<string>("() => JSON.stringify(window.pipecatTest)"));
        var (wordErrorRate, heard) = BestRun(sentence, result);
        for (var waited = 0; Hits(sentence, heard) < 3 && waited < 4; waited++)
        {
            var finals = result.Transcripts.Count(t => t.Final);
            try
            {
                await page.WaitForFunctionAsync("n => window.pipecatTest.transcripts.filter(t => t.final).length > n", finals, new PageWaitForFunctionOptions { Timeout = 15_000, PollingInterval = 100 });
            }
            catch (TimeoutException)
            {
                break;
            }
            result = Parse<ClientState>(await page.EvaluateAsync<string>("() => JSON.stringify(window.pipecatTest)"));
            (wordErrorRate, heard) = BestRun(sentence, result);
        }
        await page.EvaluateAsync("() => window.pipecatClient.disconnect()");

        botReady.Version.Should().Be(RtviProcessor.ProtocolVersion);
        rtviProcessors.Should().ContainSingle().Which.ClientVersion.Should().StartWith("2.", "the client announces its RTVI version in client-ready");
        Hits(sentence, heard).Should().BeGreaterThanOrEqualTo(3, $"the client's final transcripts were {string.Join(" | ", result.Transcripts.Where(t => t.Final).Select(t => t.Text))}; the closest run was \"{heard}\" (WER {wordErrorRate:F2})");
        result.Events.Should().ContainInOrder("user-started-speaking", "user-stopped-speaking", "bot-llm-started", "bot-tts-started");
        result.BotLlmText.Should().NotBeEmpty("the LLM's streamed reply reaches the client as bot-llm-text");
        string.Concat(result.BotTtsText).Should().NotBeNullOrWhiteSpace();
        result.BotAudioSamples.Should().BeGreaterThan(24_000, "at least a second of the bot's speech (24 kHz) reached the client's player");
        result.BotAudioPeak.Should().BeGreaterThan(1000, "the bot's audio is speech, not silence");
        result.Errors.Should().BeEmpty();
    }

    private static string Logs(List<string> console, FakeLogCollector logs)
    {
        lock (console)
            return "browser console:\n" + string.Join('\n', console.TakeLast(40)) + "\nserver log:\n" + string.Join('\n', logs.GetSnapshot().Select(r => $"{r.Level} {r.Category}: {r.Message} {r.Exception}"));
    }

    /// <summary>Serves the fixture page and its bundled script on 127.0.0.1 with <see cref="System.Net.HttpListener"/>.</summary>
    private sealed class PageServer : IDisposable
    {
        private readonly System.Net.HttpListener _listener = new();
        private readonly Task _serving;

        private PageServer(string page, string script)
        {
            var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            probe.Start();
            var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Url = new Uri($"http://127.0.0.1:{port}/index.html");
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            _serving = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    System.Net.HttpListenerContext context;
                    try
                    {
                        context = await _listener.GetContextAsync();
                    }
                    catch (Exception exception) when (exception is System.Net.HttpListenerException or ObjectDisposedException)
                    {
                        return;
                    }
                    var path = context.Request.Url!.AbsolutePath;
                    var file = path == "/index.html" ? page : path == "/client.js" ? script : null;
                    if (file is null)
                    {
                        context.Response.StatusCode = 404;
                    }
                    else
                    {
                        context.Response.ContentType = file.EndsWith(".js", StringComparison.Ordinal) ? "text/javascript" : "text/html; charset=utf-8";
                        var bytes = await File.ReadAllBytesAsync(file);
                        await context.Response.OutputStream.WriteAsync(bytes);
                    }
                    context.Response.Close();
                }
            });
        }

        public Uri Url { get; }

        public static PageServer Start(string page, string script) => new(page, script);

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _serving.Wait(TimeSpan.FromSeconds(5));
        }
    }

    /// <summary>The run of consecutive final transcripts (up to three) closest to <paramref name="sentence"/>.</summary>
    private static (double WordErrorRate, string Heard) BestRun(string sentence, ClientState state)
    {
        var finals = state.Transcripts.Where(t => t.Final).Select(t => t.Text).ToList();
        var best = (WordErrorRate: 1.0, Heard: "");
        for (var i = 0; i < finals.Count; i++)
        {
            for (var length = 1; length <= 3 && i + length <= finals.Count; length++)
            {
                var heard = string.Join(' ', finals.Skip(i).Take(length));
                var rate = WordErrorRate.Compute(sentence, heard);
                if (rate < best.WordErrorRate)
                    best = (rate, heard);
            }
        }
        return best;
    }

    /// <summary>How many of the sentence's words were heard.</summary>
    private static int Hits(string sentence, string heard)
        => sentence.Split(' ').Intersect(heard.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal).Count();

    private static T Parse<T>(string json)
        => System.Text.Json.JsonSerializer.Deserialize<T>(json, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))!;

    private sealed record BotReady(string Version);

    private sealed record Transcript(string Text, bool Final, [property: System.Text.Json.Serialization.JsonPropertyName("user_id")] string UserId, string Timestamp);

    private sealed record ClientState(List<Transcript> Transcripts, List<string> BotLlmText, List<string> BotTtsText, List<string> Events, List<string> Errors, int BotAudioSamples, int BotAudioPeak);

    /// <summary>The client fixture (tests/…/PipecatClient): <c>npm ci</c> when its packages are missing, then esbuild bundles the page script.</summary>
    private static class PipecatClientBundle
    {
        private static readonly SemaphoreSlim s_gate = new(1, 1);

        public static async Task<(string Page, string Script)> BuildAsync()
        {
            var directory = Path.Combine(Path.GetDirectoryName(SourceFile())!, "PipecatClient");
            await s_gate.WaitAsync();
            try
            {
                if (!File.Exists(Path.Combine(directory, "node_modules", ".package-lock.json")))
                    Run(directory, "npm", "ci", "--no-audit", "--no-fund");
                Run(directory, "npx", "--no-install", "esbuild", "client.js", "--bundle", "--format=iife", "--outfile=dist/client.js", "--log-level=warning");
            }
            finally
            {
                s_gate.Release();
            }
            return (Path.Combine(directory, "index.html"), Path.Combine(directory, "dist", "client.js"));
        }

        private static string SourceFile([CallerFilePath] string path = "") => path;

        private static void Run(string directory, string tool, params string[] arguments)
            => ToolRun.RunChecked(tool, arguments, directory, TimeSpan.FromMinutes(5));
    }
}
