using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using VoicePipeline.Together.Emulator.Realtime;
using VoicePipeline.Together.Emulator.Recognition;

namespace VoicePipeline.Together.Emulator.Tests;

/// <summary>The emulator enforces the real server's rules, so clients that break them fail here as they would there.</summary>
public sealed class RealtimeProtocolTests : IAsyncLifetime
{
    private TogetherEmulator _emulator = null!;

    public async Task InitializeAsync() => _emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { Recognizer = new ScriptedRecognizerFactory("hi") });

    public async Task DisposeAsync() => await _emulator.DisposeAsync();

    private async Task<ClientWebSocket> ConnectAsync(string query = "model=m&input_audio_format=pcm_s16le_16000", string? subprotocolKey = null)
    {
        var socket = new ClientWebSocket();
        if (subprotocolKey is null)
            socket.Options.SetRequestHeader("Authorization", "Bearer k");
        else
        {
            socket.Options.AddSubProtocol("realtime");
            socket.Options.AddSubProtocol("openai-insecure-api-key." + subprotocolKey);
        }
        socket.Options.CollectHttpResponseDetails = true;
        var url = new Uri(_emulator.BaseUrl.ToString().Replace("http", "ws", StringComparison.Ordinal) + "/realtime?" + query);
        await socket.ConnectAsync(url, CancellationToken.None);
        return socket;
    }

    private static async Task<(WebSocketMessageType Type, string Text)> ReceiveAsync(WebSocket socket)
    {
        var buffer = new byte[64 * 1024];
        var result = await socket.ReceiveAsync(buffer, new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        return (result.MessageType, Encoding.UTF8.GetString(buffer, 0, result.Count));
    }

    [Fact]
    public async Task Session_created_comes_first_and_a_commit_is_answered_with_committed_and_completed()
    {
        using var socket = await ConnectAsync();
        JsonDocument.Parse((await ReceiveAsync(socket)).Text).RootElement.GetProperty("type").GetString().Should().Be("session.created");

        await socket.SendAsync(Encoding.UTF8.GetBytes("{\"type\":\"input_audio_buffer.append\",\"audio\":\"" + Convert.ToBase64String(new byte[3200]) + "\"}"), WebSocketMessageType.Text, true, default);
        await socket.SendAsync("{\"type\":\"input_audio_buffer.commit\"}"u8.ToArray(), WebSocketMessageType.Text, true, default);

        JsonDocument.Parse((await ReceiveAsync(socket)).Text).RootElement.GetProperty("type").GetString().Should().Be("input_audio_buffer.committed");
        var completed = JsonDocument.Parse((await ReceiveAsync(socket)).Text).RootElement;
        completed.GetProperty("type").GetString().Should().Be("conversation.item.input_audio_transcription.completed");
        completed.GetProperty("transcript").GetString().Should().Be("hi");
        completed.GetProperty("duration").GetDouble().Should().Be(0.1);
    }

    [Fact]
    public async Task Each_commit_logs_the_emulators_own_time_to_its_transcript()
    {
        using var socket = await ConnectAsync();
        await ReceiveAsync(socket);
        await socket.SendAsync(Encoding.UTF8.GetBytes("{\"type\":\"input_audio_buffer.append\",\"audio\":\"" + Convert.ToBase64String(new byte[3200]) + "\"}"), WebSocketMessageType.Text, true, default);
        await socket.SendAsync("{\"type\":\"input_audio_buffer.commit\"}"u8.ToArray(), WebSocketMessageType.Text, true, default);
        await ReceiveAsync(socket); // committed
        await ReceiveAsync(socket); // completed

        // The session handles one event at a time: once the next commit is answered, the first one's time was logged.
        await socket.SendAsync("{\"type\":\"input_audio_buffer.commit\"}"u8.ToArray(), WebSocketMessageType.Text, true, default);
        JsonDocument.Parse((await ReceiveAsync(socket)).Text).RootElement.GetProperty("type").GetString().Should().Be("input_audio_buffer.committed");

        var durations = _emulator.RealtimeSessions.Last().CommitDurations;
        durations.Should().NotBeEmpty().And.OnlyContain(d => d >= TimeSpan.Zero && d < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_binary_frame_ends_the_session()
    {
        using var socket = await ConnectAsync();
        await ReceiveAsync(socket);

        await socket.SendAsync(new byte[640], WebSocketMessageType.Binary, true, default);

        (await ReceiveAsync(socket)).Type.Should().Be(WebSocketMessageType.Close);
        socket.CloseStatus.Should().Be(WebSocketCloseStatus.PolicyViolation);
    }

    [Theory]
    [InlineData("input_audio_format=pcm_s16le_16000", "400")]
    [InlineData("model=m&input_audio_format=wav", "400")]
    public async Task A_handshake_without_a_model_or_with_a_bad_format_is_refused(string query, string status)
    {
        var act = () => ConnectAsync(query);

        (await act.Should().ThrowAsync<WebSocketException>()).Which.Message.Should().Contain(status);
    }

    [Fact]
    public async Task Browsers_may_pass_the_key_as_a_subprotocol_and_it_is_redacted_in_the_log()
    {
        using var socket = await ConnectAsync(subprotocolKey: "browser-secret");

        (await ReceiveAsync(socket)).Text.Should().Contain("session.created");
        _emulator.RealtimeSessions.Single().Headers["Sec-WebSocket-Protocol"].Should().Contain("openai-insecure-api-key.***").And.NotContain("browser-secret");
    }

    [Fact]
    public async Task Unknown_events_and_invalid_json_get_error_events()
    {
        using var socket = await ConnectAsync();
        await ReceiveAsync(socket);

        await socket.SendAsync("{\"type\":\"no.such.event\"}"u8.ToArray(), WebSocketMessageType.Text, true, default);
        var unknown = JsonDocument.Parse((await ReceiveAsync(socket)).Text).RootElement;
        await socket.SendAsync("not json"u8.ToArray(), WebSocketMessageType.Text, true, default);
        var invalid = JsonDocument.Parse((await ReceiveAsync(socket)).Text).RootElement;

        unknown.GetProperty("error").GetProperty("code").GetString().Should().Be("unknown_event");
        invalid.GetProperty("error").GetProperty("code").GetString().Should().Be("invalid_json");
    }

    [Fact]
    public async Task Appends_in_every_json_spelling_deliver_the_same_audio_and_bad_base64_gets_an_error()
    {
        using var socket = await ConnectAsync();
        await ReceiveAsync(socket);
        var pcm = Enumerable.Range(0, 640).Select(i => (byte)(i * 37)).ToArray();
        var base64 = Convert.ToBase64String(pcm);
        base64.Should().Contain("/", "the escaped spelling below must have something to escape");
        string[] spellings =
        [
            $"{{\"type\":\"input_audio_buffer.append\",\"audio\":\"{base64}\"}}",                       // the client's own
            $"{{ \"audio\" : \"{base64}\", \"type\" : \"input_audio_buffer.append\", \"extra\": [1, {{\"a\": 2}}] }}", // audio first, an unknown field
            $"{{\"type\":\"input_audio_buffer.append\",\"audio\":\"{base64.Replace("/", "\\/", StringComparison.Ordinal)}\"}}", // '/' escaped, as some writers do
        ];
        foreach (var spelling in spellings)
            await socket.SendAsync(Encoding.UTF8.GetBytes(spelling), WebSocketMessageType.Text, true, default);
        await socket.SendAsync("{\"type\":\"input_audio_buffer.append\",\"audio\":\"not base64!\"}"u8.ToArray(), WebSocketMessageType.Text, true, default);
        var error = JsonDocument.Parse((await ReceiveAsync(socket)).Text).RootElement;

        error.GetProperty("error").GetProperty("code").GetString().Should().Be("invalid_audio");
        var session = _emulator.RealtimeSessions.Should().ContainSingle().Subject;
        session.AudioBytesReceived.Should().Be(3 * pcm.Length);
        session.LargestAppendBytes.Should().Be(pcm.Length);
    }

    [Theory]
    [InlineData("{\"type\":\"input_audio_buffer.append\",\"audio\":\"AAEC\"}", true, 3)]
    [InlineData("{\"audio\":\"AAEC\",\"type\":\"input_audio_buffer.append\"}", true, 3)]
    [InlineData("{\"type\":\"input_audio_buffer.commit\",\"audio\":\"AAEC\"}", false, 0)]
    [InlineData("{\"type\":\"input_audio_buffer.append\"}", false, 0)]
    [InlineData("{\"type\":\"input_audio_buffer.append\",\"audio\":3}", false, 0)]
    [InlineData("{\"type\":\"input_audio_buffer.append\",\"audio\":\"AA EC\"}", true, 3)] // whitespace is skipped, as Convert.FromBase64String does
    [InlineData("{\"type\":\"input_audio_buffer.append\",\"audio\":\"AAEC\"} trailing", false, 0)]
    [InlineData("[\"input_audio_buffer.append\"]", false, 0)]
    [InlineData("{\"type\":\"input_audio_buffer.append\",\"audio\":\"AAEC\"", false, 0)]
    public void The_append_fast_path_takes_only_well_formed_appends(string json, bool taken, int bytes)
    {
        var pcm = new byte[1];

        var result = RealtimeTranscriptionEndpoints.TryDecodeAppend(Encoding.UTF8.GetBytes(json), ref pcm, out var length);

        result.Should().Be(taken);
        if (taken)
        {
            length.Should().Be(bytes);
            pcm.AsSpan(0, length).ToArray().Should().Equal(0, 1, 2);
        }
    }
}
