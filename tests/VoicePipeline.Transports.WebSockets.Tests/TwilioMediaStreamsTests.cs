#pragma warning disable CS0618 // VadProcessor.InterruptOnSpeech stays tested while it is obsolete
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using NAudio.Codecs;
using VoicePipeline.Tests.Shared;
using VoicePipeline.Transports.WebSockets.Serializers;

namespace VoicePipeline.Transports.WebSockets.Tests;

/// <summary>
/// A phone call as Twilio Media Streams makes it (a client written from Twilio's public docs: <c>connected</c>,
/// <c>start</c>, <c>media</c> every 20 ms in real time with 160 bytes of base64 μ-law at 8 kHz, <c>stop</c>) against
/// the voice agent: the agent's speech comes back as <c>media</c> with the stream's sid, and the caller speaking again
/// (barge-in) gets a <c>clear</c>.
/// </summary>
public class TwilioMediaStreamsTests
{
    private const string StreamSid = "MZ18ad3ab5a668481ce02b83e7395059f0";

    [Fact]
    public async Task A_caller_hears_the_agent_as_media_with_its_stream_sid_and_barging_in_clears_it()
    {
        await using var voiceAgent = await EmulatedVoiceAgent.StartAsync();
        await using var server = await VoiceWebSocketServer.StartAsync(session => voiceAgent.RunAsync(session), new WebSocketServerOptions { Port = 0, Path = "/twilio/ws", ServePage = false, Serializer = () => new TwilioFrameSerializer() });

        var recordings = Directory.GetFiles(TestAudio.LibriVoxDirectory, "*.wav").Order().ToList();
        var firstTurn = TestAudio.Concat(TestAudio.Silence(0.5, 8000), TestAudio.Decode(recordings[1], 8000), TestAudio.Silence(1.0, 8000));
        var bargeIn = TestAudio.Concat(TestAudio.Decode(recordings[0], 8000), TestAudio.Silence(1.0, 8000));

        using var twilio = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await twilio.ConnectAsync(server.SocketUrl, timeout.Token);
        var received = new List<JsonElement>();
        var firstMedia = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cleared = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reading = ReadAsync(twilio, message =>
        {
            lock (received)
                received.Add(message);
            var type = message.GetProperty("event").GetString();
            if (type == "media")
                firstMedia.TrySetResult();
            else if (type == "clear" && firstMedia.Task.IsCompleted)
                cleared.TrySetResult();
        }, timeout.Token);

        var sequence = 0;
        await SendAsync(twilio, new { @event = "connected", protocol = "Call", version = "1.0.0" }, timeout.Token);
        await SendAsync(twilio, new
        {
            @event = "start",
            sequenceNumber = (++sequence).ToString(System.Globalization.CultureInfo.InvariantCulture),
            start = new
            {
                accountSid = "AC0000000000000000000000000000000",
                streamSid = StreamSid,
                callSid = "CA0000000000000000000000000000000",
                tracks = new[] { "inbound" },
                mediaFormat = new { encoding = "audio/x-mulaw", sampleRate = 8000, channels = 1 },
                customParameters = new { },
            },
            streamSid = StreamSid,
        }, timeout.Token);
        var chunk = 0;
        await StreamAsync(twilio, firstTurn, () => ++sequence, () => ++chunk, timeout.Token);
        await firstMedia.Task.WaitAsync(timeout.Token);
        await StreamAsync(twilio, bargeIn, () => ++sequence, () => ++chunk, timeout.Token);
        await cleared.Task.WaitAsync(timeout.Token);
        await SendAsync(twilio, new { @event = "stop", sequenceNumber = (++sequence).ToString(System.Globalization.CultureInfo.InvariantCulture), stop = new { accountSid = "AC0", callSid = "CA0" }, streamSid = StreamSid }, timeout.Token);
        await reading.WaitAsync(timeout.Token);

        List<JsonElement> messages;
        lock (received)
            messages = [.. received];
        messages.Should().OnlyContain(m => m.GetProperty("streamSid").GetString() == StreamSid, "every message to Twilio names the stream");
        var media = messages.Where(m => m.GetProperty("event").GetString() == "media").ToList();
        var agent = media.SelectMany(m => m.GetProperty("media").GetProperty("payload").GetBytesFromBase64()).Select(MuLawDecoder.MuLawToLinearSample).ToArray();
        agent.Length.Should().BeGreaterThan(8000 / 2, "at least half a second of the agent's speech came back");
        Math.Sqrt(agent.Average(s => (double)s * s)).Should().BeGreaterThan(300, "the agent's audio is speech, not silence");
        var events = messages.Select(m => m.GetProperty("event").GetString()).ToList();
        events.IndexOf("clear", events.IndexOf("media")).Should().BePositive("the caller barging in after the agent spoke clears Twilio's buffer");
        twilio.CloseStatus.Should().Be(WebSocketCloseStatus.NormalClosure, "Twilio's stop ends the session");
    }

    /// <summary>Sends audio as Twilio does: a <c>media</c> message of 20 ms (160 μ-law bytes) every 20 ms, in real time.</summary>
    private static async Task StreamAsync(ClientWebSocket twilio, short[] audio, Func<int> nextSequence, Func<int> nextChunk, CancellationToken cancellationToken)
    {
        using var clock = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        var mulaw = new byte[160];
        for (var offset = 0; offset + 160 <= audio.Length; offset += 160)
        {
            for (var i = 0; i < 160; i++)
                mulaw[i] = MuLawEncoder.LinearToMuLawSample(audio[offset + i]);
            var chunk = nextChunk();
            await SendAsync(twilio, new
            {
                @event = "media",
                sequenceNumber = nextSequence().ToString(System.Globalization.CultureInfo.InvariantCulture),
                media = new { track = "inbound", chunk = chunk.ToString(System.Globalization.CultureInfo.InvariantCulture), timestamp = ((chunk - 1) * 20).ToString(System.Globalization.CultureInfo.InvariantCulture), payload = Convert.ToBase64String(mulaw) },
                streamSid = StreamSid,
            }, cancellationToken);
            await clock.WaitForNextTickAsync(cancellationToken);
        }
    }

    private static Task SendAsync(ClientWebSocket socket, object message, CancellationToken cancellationToken)
        => socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(message), WebSocketMessageType.Text, true, cancellationToken);

    private static async Task ReadAsync(ClientWebSocket socket, Action<JsonElement> onMessage, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", cancellationToken);
                return;
            }
            message.Write(buffer, 0, result.Count);
            if (!result.EndOfMessage)
                continue;
            result.MessageType.Should().Be(WebSocketMessageType.Text, "Twilio's wire is JSON text");
            onMessage(JsonDocument.Parse(Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length)).RootElement.Clone());
            message.SetLength(0);
        }
    }
}
