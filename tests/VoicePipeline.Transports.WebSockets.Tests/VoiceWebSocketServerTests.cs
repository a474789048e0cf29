using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using VoicePipeline.Pipelines;
using VoicePipeline.Processors;
using VoicePipeline.Together.Emulator;
using VoicePipeline.Together.Realtime;
using VoicePipeline.Testing;
using VoicePipeline.Tests.Shared;
using VoicePipeline.Vad;
using VoicePipeline.Vad.Silero;

namespace VoicePipeline.Transports.WebSockets.Tests;

public class VoiceWebSocketServerTests
{
    private static readonly TimeSpan s_guard = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_page_is_served_and_talks_to_the_socket()
    {
        await using var server = await VoiceWebSocketServer.StartAsync(_ => Task.CompletedTask, new WebSocketServerOptions { Port = 0, Path = "/talk", OutputSampleRate = 22_050 });
        using var http = new HttpClient { BaseAddress = server.BaseUrl };

        var page = await http.GetAsync("/");
        var html = await page.Content.ReadAsStringAsync();
        var plain = await http.GetAsync("/talk");

        page.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        html.Should().Contain("getUserMedia").And.Contain("SOCKET_PATH = \"/talk\"").And.Contain("OUTPUT_RATE = 22050").And.NotContain("{{");
        server.SocketUrl.Should().Be(new Uri(server.BaseUrl.ToString().Replace("http", "ws", StringComparison.Ordinal) + "talk"));
        plain.StatusCode.Should().Be(HttpStatusCode.BadRequest, "only WebSocket requests are served there");
    }

    [Fact]
    public async Task Audio_in_comes_back_out_bit_exact_and_the_session_ends_when_the_client_closes()
    {
        var speech = TestAudio.Speak("Testing one two three.", 16000);
        var ended = new TaskCompletionSource<PipelineCompletion>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await VoiceWebSocketServer.StartAsync(
            async session => ended.SetResult(await RunAsync(session, new AudioEcho())),
            new WebSocketServerOptions { Port = 0, OutputSampleRate = 16_000 });
        using var client = new ClientWebSocket();
        await client.ConnectAsync(server.SocketUrl, CancellationToken.None);

        var bytes = TestAudio.ToBytes(speech);
        for (var offset = 0; offset < bytes.Length; offset += 777) // odd sizes: samples split across messages
            await client.SendAsync(bytes.AsMemory(offset, Math.Min(777, bytes.Length - offset)), WebSocketMessageType.Binary, true, CancellationToken.None);
        await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        var (audio, _) = await ReceiveAllAsync(client);

        var frame = 320;
        var expected = speech.Concat(new short[(frame - speech.Length % frame) % frame]).ToArray();
        TestAudio.FromBytes(audio).Should().Equal(expected, "every sample comes back, the last frame padded with silence");
        (await ended.Task.WaitAsync(s_guard)).Should().Be(PipelineCompletion.Ended);
        client.CloseStatus.Should().Be(WebSocketCloseStatus.NormalClosure);
    }

    [Fact]
    public async Task Speech_from_a_client_comes_back_as_speaking_events_and_final_transcripts()
    {
        await using var emulator = await TogetherEmulator.StartAsync();
        // A LibriVox recording from pocketsphinx-testdata: "he was not an ill disposed young man".
        var recording = Directory.GetFiles(TestAudio.LibriVoxDirectory, "*.wav").Order().ElementAt(1);
        const string sentence = "he was not an ill disposed young man";
        var audio = TestAudio.Concat(TestAudio.Silence(0.5), TestAudio.Decode(recording, 16000), TestAudio.Silence(1.5));
        await using var server = await VoiceWebSocketServer.StartAsync(
            session => RunAsync(session,
                new VadProcessor(new SileroVadAnalyzer()),
                new TogetherSttService(new TogetherSttOptions { ApiKey = "test", BaseUrl = emulator.BaseUrl })),
            new WebSocketServerOptions { Port = 0, InputRateWindow = TimeSpan.FromMinutes(1) }); // the recording is sent at once
        using var client = new ClientWebSocket();
        await client.ConnectAsync(server.SocketUrl, CancellationToken.None);

        var bytes = TestAudio.ToBytes(audio);
        for (var offset = 0; offset < bytes.Length; offset += 640)
            await client.SendAsync(bytes.AsMemory(offset, Math.Min(640, bytes.Length - offset)), WebSocketMessageType.Binary, true, CancellationToken.None);
        await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        var (_, events) = await ReceiveAllAsync(client);

        var types = events.Select(e => e.GetProperty("type").GetString()).ToList();
        types.Should().ContainInOrder("user_started_speaking", "user_stopped_speaking", "transcript");
        var finals = events.Where(e => e.GetProperty("type").GetString() == "transcript" && e.GetProperty("final").GetBoolean());
        var text = string.Join(' ', finals.Select(e => e.GetProperty("text").GetString())); // a pause may split the turn (then PocketSphinx hears "he was not until this blows young man")
        WordErrorRate.Compute(sentence, text).Should().BeLessThan(0.5, $"heard \"{text}\"");
    }

    [Fact]
    public async Task Disposing_the_server_stops_live_sessions_and_a_dropped_client_ends_its_own()
    {
        var sessions = new List<TaskCompletionSource<PipelineCompletion>>();
        var started = new SemaphoreSlim(0);
        var server = await VoiceWebSocketServer.StartAsync(async session =>
        {
            var ended = new TaskCompletionSource<PipelineCompletion>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (sessions)
                sessions.Add(ended);
            started.Release();
            ended.SetResult(await RunAsync(session, new AudioEcho()));
        }, new WebSocketServerOptions { Port = 0 });

        using var dropped = new ClientWebSocket();
        await dropped.ConnectAsync(server.SocketUrl, CancellationToken.None);
        await started.WaitAsync(s_guard);
        dropped.Abort();
        (await sessions[0].Task.WaitAsync(s_guard)).Should().BeOneOf([PipelineCompletion.Ended, PipelineCompletion.Cancelled], "a client that vanishes ends its session");

        using var idle = new ClientWebSocket();
        await idle.ConnectAsync(server.SocketUrl, CancellationToken.None);
        await started.WaitAsync(s_guard);
        server.ActiveSessions.Should().Be(1);
        await server.DisposeAsync().AsTask().WaitAsync(s_guard);

        (await sessions[1].Task.WaitAsync(s_guard)).Should().Be(PipelineCompletion.Cancelled, "the server stopping cancels the session's pipeline");
        server.ActiveSessions.Should().Be(0);
    }

    private static async Task<PipelineCompletion> RunAsync(WebSocketSession session, params FrameProcessor[] processors)
    {
        var pipeline = new Pipeline([session.Input, .. processors, session.Output]);
        await using var task = new PipelineTask(pipeline, new PipelineTaskOptions { AudioInSampleRate = 16_000 });
        return await task.RunAsync(session.Stopping);
    }

    /// <summary>Everything the server sends until it closes: binary audio concatenated, and the JSON events.</summary>
    private static async Task<(byte[] Audio, List<JsonElement> Events)> ReceiveAllAsync(ClientWebSocket client)
    {
        using var timeout = new CancellationTokenSource(s_guard);
        var audio = new MemoryStream();
        var events = new List<JsonElement>();
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        while (true)
        {
            var received = await client.ReceiveAsync(buffer, timeout.Token);
            if (received.MessageType == WebSocketMessageType.Close)
                return (audio.ToArray(), events);
            message.Write(buffer, 0, received.Count);
            if (!received.EndOfMessage)
                continue;
            if (received.MessageType == WebSocketMessageType.Binary)
                audio.Write(message.GetBuffer(), 0, (int)message.Length);
            else
                events.Add(JsonDocument.Parse(Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length)).RootElement.Clone());
            message.SetLength(0);
        }
    }
}
