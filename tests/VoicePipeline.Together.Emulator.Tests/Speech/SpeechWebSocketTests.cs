using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using VoicePipeline.Together.Emulator.Speech;

namespace VoicePipeline.Together.Emulator.Tests.Speech;

/// <summary>The speech WebSocket over real sockets, with a raw <see cref="ClientWebSocket"/>.</summary>
public sealed class SpeechWebSocketTests : IAsyncLifetime
{
    private const string Kokoro = "hexgrad/Kokoro-82M";
    private const string Text = "Hello there, how are you?";

    private readonly FakeTimeProvider _time = new();
    private TogetherEmulator _emulator = null!;

    public async Task InitializeAsync() => _emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { TimeProvider = _time });

    public async Task DisposeAsync() => await _emulator.DisposeAsync();

    private SpeechFaults Faults => _emulator.Options.SpeechFaults;

    private async Task<ClientWebSocket> ConnectAsync(string query = $"model={Kokoro}&voice=af_heart", string? bearer = "k")
    {
        var socket = new ClientWebSocket();
        if (bearer is not null)
            socket.Options.SetRequestHeader("Authorization", "Bearer " + bearer);
        socket.Options.CollectHttpResponseDetails = true;
        var url = new Uri(_emulator.BaseUrl.ToString().Replace("http", "ws", StringComparison.Ordinal) + "/audio/speech/websocket?" + query);
        try
        {
            await socket.ConnectAsync(url, CancellationToken.None);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return socket;
    }

    private static async Task<JsonElement> ReceiveAsync(WebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var message = new MemoryStream();
        var buffer = new byte[16 * 1024];
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, timeout.Token);
            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);
        result.MessageType.Should().Be(WebSocketMessageType.Text);
        return JsonDocument.Parse(message.ToArray()).RootElement.Clone();
    }

    private static Task SendAsync(WebSocket socket, object message)
        => socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(message), WebSocketMessageType.Text, true, CancellationToken.None);

    private static string Type(JsonElement e) => e.TryGetProperty("type", out var t) ? t.GetString()! : "<none>";

    private static async Task<(List<JsonElement> Events, byte[] Audio)> SpeakAsync(WebSocket socket, string text, string context)
    {
        await SendAsync(socket, new { type = "input_text_buffer.append", text, context_id = context });
        await SendAsync(socket, new { type = "input_text_buffer.commit", context_id = context });
        var events = new List<JsonElement>();
        var audio = new MemoryStream();
        while (true)
        {
            var e = await ReceiveAsync(socket);
            events.Add(e);
            if (Type(e) == "conversation.item.audio_output.delta")
                audio.Write(Convert.FromBase64String(e.GetProperty("delta").GetString()!));
            if (Type(e) is "conversation.item.audio_output.done" or "conversation.item.tts.failed" or "error")
                return (events, audio.ToArray());
        }
    }

    [Fact]
    public async Task A_committed_text_streams_the_same_pcm_as_Synthesize_in_its_context()
    {
        using var socket = await ConnectAsync();
        var created = await ReceiveAsync(socket);
        Type(created).Should().Be("session.created");
        created.GetProperty("session").GetProperty("voice").GetString().Should().Be("af_heart");

        var (events, audio) = await SpeakAsync(socket, Text, "c1");

        events.Select(Type).Distinct().Should().Equal("conversation.item.input_text.received", "conversation.item.word_timestamps", "conversation.item.audio_output.delta", "conversation.item.audio_output.done");
        events.Should().OnlyContain(e => e.GetProperty("context_id").GetString() == "c1");
        events[0].GetProperty("text").GetString().Should().Be(Text);
        events[1].GetProperty("words").GetArrayLength().Should().Be(5);
        audio.Should().Equal(_emulator.Synthesize(Text, Kokoro, "af_heart"));
        var log = _emulator.SpeechRequests.Should().ContainSingle().Subject;
        (log.Transport, log.ContextId, log.Voice, log.Cancelled).Should().Be((SpeechTransport.WebSocket, "c1", "af_heart", false));
        log.FirstAudioAfter.Should().Be(TimeSpan.Zero, "the fake clock did not move");
    }

    [Fact]
    public async Task The_key_may_come_as_a_query_parameter_and_none_is_refused_before_the_upgrade()
    {
        using var byQuery = await ConnectAsync($"model={Kokoro}&voice=af_heart&api_key=k", bearer: null);
        Type(await ReceiveAsync(byQuery)).Should().Be("session.created");

        using var anonymous = new ClientWebSocket();
        anonymous.Options.CollectHttpResponseDetails = true;
        var act = () => anonymous.ConnectAsync(new Uri(_emulator.BaseUrl.ToString().Replace("http", "ws", StringComparison.Ordinal) + $"/audio/speech/websocket?model={Kokoro}&voice=af_heart"), CancellationToken.None);
        await act.Should().ThrowAsync<WebSocketException>();
        anonymous.HttpStatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData($"model={Kokoro}&voice=tara", HttpStatusCode.BadRequest)]
    [InlineData("model=no/model&voice=tara", HttpStatusCode.NotFound)]
    [InlineData("model=cartesia/sonic&voice=newsman", HttpStatusCode.BadRequest)]
    public async Task An_unknown_model_or_voice_is_refused_before_the_upgrade(string query, HttpStatusCode status)
    {
        var act = () => ConnectAsync(query);

        (await act.Should().ThrowAsync<WebSocketException>()).Which.Message.Should().Contain(((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task An_injected_503_refuses_one_handshake_with_retry_after()
    {
        Faults.FailNext(503);
        using var refused = new ClientWebSocket();
        refused.Options.SetRequestHeader("Authorization", "Bearer k");
        refused.Options.CollectHttpResponseDetails = true;
        var act = () => refused.ConnectAsync(new Uri(_emulator.BaseUrl.ToString().Replace("http", "ws", StringComparison.Ordinal) + $"/audio/speech/websocket?model={Kokoro}&voice=af_heart"), CancellationToken.None);

        await act.Should().ThrowAsync<WebSocketException>();
        refused.HttpStatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        refused.HttpResponseHeaders!["Retry-After"].Should().Equal("1");
        using var accepted = await ConnectAsync();
        Type(await ReceiveAsync(accepted)).Should().Be("session.created");
    }

    [Fact]
    public async Task Context_cancel_stops_the_audio_of_that_context_at_once()
    {
        Faults.ChunkInterval = TimeSpan.FromSeconds(1); // on the fake clock: the second chunk waits until the test moves it
        using var socket = await ConnectAsync();
        await ReceiveAsync(socket);
        await SendAsync(socket, new { type = "input_text_buffer.append", text = Text, context_id = "c1" });
        await SendAsync(socket, new { type = "input_text_buffer.commit", context_id = "c1" });
        Type(await ReceiveAsync(socket)).Should().Be("conversation.item.input_text.received");
        Type(await ReceiveAsync(socket)).Should().Be("conversation.item.word_timestamps");
        Type(await ReceiveAsync(socket)).Should().Be("conversation.item.audio_output.delta");

        await SendAsync(socket, new { type = "context.cancel", context_id = "c1" });
        var cancelled = await ReceiveAsync(socket);

        Type(cancelled).Should().Be("context.cancelled");
        cancelled.GetProperty("context_id").GetString().Should().Be("c1");
        Faults.ChunkInterval = TimeSpan.Zero;
        _time.Advance(TimeSpan.FromSeconds(10)); // were c1 still running, its next chunks would go out now
        var (events, audio) = await SpeakAsync(socket, "Bye.", "c2");
        events.Should().OnlyContain(e => e.GetProperty("context_id").GetString() == "c2", "nothing of c1 follows context.cancelled");
        audio.Should().Equal(_emulator.Synthesize("Bye.", Kokoro, "af_heart"));
        _emulator.SpeechRequests.Select(r => (r.ContextId, r.Cancelled)).Should().Equal(("c1", true), ("c2", false));
    }

    [Fact]
    public async Task Commits_are_spoken_in_order_and_a_queued_context_can_be_cancelled_before_it_starts()
    {
        Faults.ChunkInterval = TimeSpan.FromSeconds(1); // on the fake clock, which never moves here: c1 stalls after its first chunk
        using var socket = await ConnectAsync();
        await ReceiveAsync(socket);
        foreach (var (text, context) in new[] { (Text, "c1"), ("Second.", "c2"), ("Third.", "c3") })
        {
            await SendAsync(socket, new { type = "input_text_buffer.append", text, context_id = context });
            await SendAsync(socket, new { type = "input_text_buffer.commit", context_id = context });
        }
        var events = new List<JsonElement>();
        while (!events.Any(e => Type(e) == "conversation.item.audio_output.delta"))
            events.Add(await ReceiveAsync(socket));

        await SendAsync(socket, new { type = "context.cancel", context_id = "c2" }); // still queued behind c1
        Faults.ChunkInterval = TimeSpan.Zero;
        await SendAsync(socket, new { type = "context.cancel", context_id = "c1" }); // c3 then runs unpaced
        while (!events.Any(e => Type(e) == "conversation.item.audio_output.done"))
            events.Add(await ReceiveAsync(socket));

        var spoken = events.Where(e => Type(e) is "conversation.item.word_timestamps" or "conversation.item.audio_output.done" or "context.cancelled")
            .Select(e => $"{Type(e)}:{e.GetProperty("context_id").GetString()}");
        spoken.Should().Equal("conversation.item.word_timestamps:c1", "context.cancelled:c2", "context.cancelled:c1", "conversation.item.word_timestamps:c3", "conversation.item.audio_output.done:c3");
        events.Where(e => e.GetProperty("context_id").GetString() == "c2").Select(Type).Should().Equal("conversation.item.input_text.received", "context.cancelled");
        events.Count(e => Type(e) == "conversation.item.audio_output.delta" && e.GetProperty("context_id").GetString() == "c1").Should().Be(1);
        _emulator.SpeechRequests.Select(r => (r.ContextId, r.Cancelled, r.FirstAudioAfter.HasValue)).Should().Equal(("c1", true, true), ("c2", true, false), ("c3", false, true));
    }

    [Fact]
    public async Task A_session_update_changes_the_voice_of_later_commits()
    {
        using var socket = await ConnectAsync();
        await ReceiveAsync(socket);
        var (_, before) = await SpeakAsync(socket, Text, "c1");

        await SendAsync(socket, new { type = "tts_session.updated", session = new { voice = "am_adam" } });
        var updated = await ReceiveAsync(socket);
        var (_, after) = await SpeakAsync(socket, Text, "c2");

        Type(updated).Should().Be("tts_session.updated");
        updated.GetProperty("session").GetProperty("voice").GetString().Should().Be("am_adam");
        after.Should().NotEqual(before);
        after.Should().Equal(_emulator.Synthesize(Text, Kokoro, "am_adam"));
        _emulator.SpeechRequests.Select(r => r.Voice).Should().Equal("af_heart", "am_adam");
    }

    [Fact]
    public async Task A_session_update_to_an_unknown_voice_is_an_error_event_and_the_voice_stays()
    {
        using var socket = await ConnectAsync();
        await ReceiveAsync(socket);

        await SendAsync(socket, new { type = "tts_session.updated", session = new { voice = "tara" } });
        var error = await ReceiveAsync(socket);
        var (_, audio) = await SpeakAsync(socket, "Hi.", "c1");

        Type(error).Should().Be("error");
        error.GetProperty("error").GetProperty("code").GetString().Should().Be("invalid_voice");
        audio.Should().Equal(_emulator.Synthesize("Hi.", Kokoro, "af_heart"));
    }

    [Fact]
    public async Task A_failure_part_way_fails_the_context_and_the_session_goes_on()
    {
        Faults.FailMidStreamAfterChunks = 1;
        using var socket = await ConnectAsync();
        await ReceiveAsync(socket);

        var (events, audio) = await SpeakAsync(socket, Text, "c1");
        Faults.FailMidStreamAfterChunks = null;
        var (_, next) = await SpeakAsync(socket, "Hi.", "c2");

        var failed = events[^1];
        Type(failed).Should().Be("conversation.item.tts.failed");
        failed.GetProperty("context_id").GetString().Should().Be("c1");
        failed.GetProperty("error").GetProperty("code").GetString().Should().Be("synthesis_failed");
        audio.Length.Should().Be(4800, "one 100 ms chunk went out before the failure");
        next.Should().Equal(_emulator.Synthesize("Hi.", Kokoro, "af_heart"));
    }

    [Fact]
    public async Task With_a_riff_header_in_audio_the_first_delta_of_each_utterance_starts_with_RIFF()
    {
        Faults.RiffHeaderInAudio = true;
        using var socket = await ConnectAsync();
        await ReceiveAsync(socket);

        var (first, _) = await SpeakAsync(socket, "Hi.", "c1");
        var (second, _) = await SpeakAsync(socket, "Bye.", "c2");

        foreach (var events in new[] { first, second })
        {
            var delta = Convert.FromBase64String(events.First(e => Type(e) == "conversation.item.audio_output.delta").GetProperty("delta").GetString()!);
            Encoding.ASCII.GetString(delta, 0, 4).Should().Be("RIFF");
        }
    }

    [Fact]
    public async Task Malformed_json_and_unknown_events_get_error_events_and_the_socket_stays_open()
    {
        using var socket = await ConnectAsync();
        await ReceiveAsync(socket);

        await socket.SendAsync("not json {"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        var invalid = await ReceiveAsync(socket);
        await SendAsync(socket, new { type = "no.such.event", context_id = "c9" });
        var unknown = await ReceiveAsync(socket);
        await SendAsync(socket, new { type = "input_text_buffer.commit", context_id = "c9" });
        var empty = await ReceiveAsync(socket);

        invalid.GetProperty("error").GetProperty("code").GetString().Should().Be("invalid_json");
        invalid.GetProperty("error").GetProperty("type").GetString().Should().Be("invalid_request_error");
        unknown.GetProperty("error").GetProperty("code").GetString().Should().Be("unknown_event");
        unknown.GetProperty("context_id").GetString().Should().Be("c9");
        empty.GetProperty("error").GetProperty("code").GetString().Should().Be("empty_buffer");
        socket.State.Should().Be(WebSocketState.Open);
        (await SpeakAsync(socket, "Hi.", "c1")).Audio.Should().NotBeEmpty();
    }

    [Fact]
    public async Task Cleared_text_is_not_spoken()
    {
        using var socket = await ConnectAsync();
        await ReceiveAsync(socket);

        await SendAsync(socket, new { type = "input_text_buffer.append", text = "Forget this. ", context_id = "c1" });
        await SendAsync(socket, new { type = "input_text_buffer.clear", context_id = "c1" });
        Type(await ReceiveAsync(socket)).Should().Be("input_text_buffer.cleared");
        var (events, audio) = await SpeakAsync(socket, "Hi.", "c1");

        events[0].GetProperty("text").GetString().Should().Be("Hi.");
        audio.Should().Equal(_emulator.Synthesize("Hi.", Kokoro, "af_heart"));
    }
}
