using System.Text;
using System.Text.Json;
using VoicePipeline.Frames;
using VoicePipeline.Tests.Shared;
using VoicePipeline.Transports.WebSockets.Serializers;

namespace VoicePipeline.Transports.WebSockets.Tests.Serializers;

/// <summary>Each serializer's encode and decode, with real speech (espeak-ng) through both.</summary>
public class SerializerRoundTripTests
{
    private static readonly Lazy<short[]> s_speech24k = new(() => TestAudio.Speak("The quick brown fox jumps over the lazy dog.", 24_000));

    [Fact]
    public async Task Raw_pcm_passes_speech_bit_exact_both_ways_and_spells_todays_events()
    {
        var serializer = new RawPcmSerializer(inputSampleRate: 24_000, outputSampleRate: 24_000);
        var speech = TestAudio.ToBytes(s_speech24k.Value);
        var input = new CollectedInput();
        var output = new CollectedMessages();

        serializer.Deserialize(speech, WireMessageType.Binary, input);
        serializer.Deserialize("{\"type\":\"ignored\"}"u8, WireMessageType.Text, input);
        await serializer.SerializeAsync(new OutputAudioRawFrame(speech, 24_000), output);
        await serializer.SerializeAsync(new TranscriptionFrame("hello \"there\"", "user", DateTimeOffset.UnixEpoch, finalized: true), output);
        await serializer.SerializeAsync(new InterimTranscriptionFrame("hel", "user", DateTimeOffset.UnixEpoch), output);
        await serializer.SerializeAsync(new TtsTextFrame("Hi."), output);
        await serializer.SerializeAsync(new UserStartedSpeakingFrame(), output);
        await serializer.SerializeAsync(new InterruptionFrame(), output);

        input.Audio.ToArray().Should().Equal(speech);
        input.Formats.Should().Equal((24_000, 1));
        input.Frames.Should().BeEmpty("text from the client means nothing on this wire");
        output.Messages[0].Type.Should().Be(WireMessageType.Binary);
        output.Messages[0].Bytes.Should().Equal(speech);
        output.Messages.Skip(1).Select(m => Encoding.UTF8.GetString(m.Bytes)).Should().Equal(
            "{\"type\":\"transcript\",\"text\":\"hello \\u0022there\\u0022\",\"final\":true}",
            "{\"type\":\"transcript\",\"text\":\"hel\",\"final\":false}",
            "{\"type\":\"bot_text\",\"text\":\"Hi.\"}",
            "{\"type\":\"user_started_speaking\"}",
            "{\"type\":\"interruption\"}");
    }

    [Fact]
    public async Task Protobuf_carries_speech_messages_and_transcripts_through_pipecats_frame()
    {
        var server = new ProtobufFrameSerializer();
        var speech = TestAudio.ToBytes(s_speech24k.Value);
        var sent = new CollectedMessages();
        using var json = JsonDocument.Parse("{\"label\":\"rtvi-ai\",\"type\":\"bot-ready\",\"id\":\"7\",\"data\":{\"version\":\"2.1.0\"}}");

        await server.SerializeAsync(new OutputAudioRawFrame(speech, 24_000), sent);
        await server.SerializeAsync(new OutputTransportMessageUrgentFrame(json.RootElement), sent);
        await server.SerializeAsync(new TranscriptionFrame("hello world", "caller", DateTimeOffset.UnixEpoch, finalized: true), sent);
        await server.SerializeAsync(new TextFrame("Hi there."), sent);
        await server.SerializeAsync(new TtsTextFrame("not on this wire"), sent);
        await server.SerializeAsync(new InterruptionFrame(), sent);

        var received = new CollectedInput();
        foreach (var (bytes, type) in sent.Messages)
        {
            type.Should().Be(WireMessageType.Binary);
            new ProtobufFrameSerializer().Deserialize(bytes, type, received);
        }
        received.Audio.ToArray().Should().Equal(speech, "24 kHz pipeline audio leaves at 24 kHz untouched");
        received.Formats.Should().Equal((24_000, 1));
        received.Frames.Should().HaveCount(4);
        received.Frames[0].Should().BeOfType<InputTransportMessageFrame>().Which.Message.GetRawText().Should().Be(json.RootElement.GetRawText());
        var transcript = received.Frames[1].Should().BeOfType<TranscriptionFrame>().Subject;
        (transcript.Text, transcript.UserId, transcript.Timestamp, transcript.Finalized).Should().Be(("hello world", "caller", DateTimeOffset.UnixEpoch, true));
        received.Frames[2].Should().BeOfType<TextFrame>().Which.Text.Should().Be("Hi there.");
        received.Frames[3].Should().BeOfType<InterruptionFrame>();
    }

    [Fact]
    public void Protobuf_reads_the_bytes_pipecats_client_writes()
    {
        // Frame { message { data: "{}" } } and Frame { audio { id: 0, name: "audio", audio: [1,0,2,0], sample_rate: 16000, num_channels: 1 } },
        // encoded by hand from frames.proto: field 4 / field 2 of Frame, length-delimited.
        byte[] message = [0x22, 0x04, 0x0a, 0x02, (byte)'{', (byte)'}'];
        byte[] audio = [0x12, 0x12, 0x12, 0x05, (byte)'a', (byte)'u', (byte)'d', (byte)'i', (byte)'o', 0x1a, 0x04, 1, 0, 2, 0, 0x20, 0x80, 0x7d, 0x28, 0x01];
        var received = new CollectedInput();
        var serializer = new ProtobufFrameSerializer();

        serializer.Deserialize(message, WireMessageType.Binary, received);
        serializer.Deserialize(audio, WireMessageType.Binary, received);
        serializer.Deserialize([0xff, 0xff], WireMessageType.Binary, received);

        received.Frames.Should().ContainSingle().Which.Should().BeOfType<InputTransportMessageFrame>().Which.Message.ValueKind.Should().Be(JsonValueKind.Object);
        received.Audio.ToArray().Should().Equal(1, 0, 2, 0);
        received.Formats.Should().Equal((16_000, 1));
        serializer.InvalidMessages.Should().Be(1);
    }

    [Fact]
    public async Task Twilio_carries_speech_as_mulaw_at_8_kHz_with_the_stream_sid_and_clears_on_interruption()
    {
        var serializer = new TwilioFrameSerializer();
        var speech = TestAudio.Speak("The quick brown fox jumps over the lazy dog.", 8000);
        var sent = new CollectedMessages();
        var received = new CollectedInput();

        await serializer.SerializeAsync(new OutputAudioRawFrame(TestAudio.ToBytes(speech), 8000), sent);
        sent.Messages.Should().BeEmpty("nothing goes to Twilio before its start event names the stream");
        serializer.Deserialize("""{"event":"connected","protocol":"Call","version":"1.0.0"}"""u8, WireMessageType.Text, received);
        serializer.Deserialize("""{"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ42","callSid":"CA7","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},"customParameters":{"who":"test"}},"streamSid":"MZ42"}"""u8, WireMessageType.Text, received);
        await serializer.SerializeAsync(new OutputAudioRawFrame(TestAudio.ToBytes(speech), 8000), sent);
        await serializer.SerializeAsync(new InterruptionFrame(), sent);
        await serializer.SerializeAsync(new TtsStoppedFrame { ContextId = "reply-1" }, sent);

        serializer.StreamSid.Should().Be("MZ42");
        serializer.CallSid.Should().Be("CA7");
        serializer.CustomParameters.Should().Contain("who", "test");
        var messages = sent.Messages.Select(m => JsonDocument.Parse(m.Bytes).RootElement).ToList();
        messages.Select(m => m.GetProperty("event").GetString()).Should().Equal("media", "clear", "mark");
        messages.Should().OnlyContain(m => m.GetProperty("streamSid").GetString() == "MZ42");
        messages[2].GetProperty("mark").GetProperty("name").GetString().Should().Be("reply-1");

        // What the server sent, played back in as the caller's media: μ-law loses little of speech.
        var inbound = $$"""{"event":"media","sequenceNumber":"2","media":{"track":"inbound","chunk":"1","timestamp":"0","payload":"{{messages[0].GetProperty("media").GetProperty("payload").GetString()}}"},"streamSid":"MZ42"}""";
        serializer.Deserialize(Encoding.UTF8.GetBytes(inbound), WireMessageType.Text, received);
        serializer.Deserialize("""{"event":"dtmf","streamSid":"MZ42","sequenceNumber":"3","dtmf":{"track":"inbound_track","digit":"5"}}"""u8, WireMessageType.Text, received);
        serializer.Deserialize("""{"event":"mark","sequenceNumber":"4","streamSid":"MZ42","mark":{"name":"reply-1"}}"""u8, WireMessageType.Text, received);
        serializer.Deserialize("""{"event":"stop","sequenceNumber":"5","stop":{"accountSid":"AC1","callSid":"CA7"},"streamSid":"MZ42"}"""u8, WireMessageType.Text, received);

        var decoded = TestAudio.FromBytes(received.Audio.ToArray());
        received.Formats.Should().Equal((8000, 1));
        decoded.Should().HaveCount(speech.Length);
        SignalToNoiseDb(speech, decoded).Should().BeGreaterThan(30, "G.711 μ-law keeps speech at about 35 dB SNR");
        received.Frames.Should().HaveCount(3);
        received.Frames[0].Should().BeOfType<InputDtmfFrame>().Which.Digit.Should().Be("5");
        received.Frames[1].Should().BeOfType<InputTransportMessageFrame>().Which.Message.GetProperty("mark").GetProperty("name").GetString().Should().Be("reply-1");
        received.Frames[2].Should().BeOfType<EndFrame>();
        serializer.InvalidMessages.Should().Be(0);
    }

    [Fact]
    public async Task Twilio_resamples_pipeline_audio_to_8_kHz()
    {
        var serializer = new TwilioFrameSerializer("MZ1");
        var sent = new CollectedMessages();

        await serializer.SerializeAsync(new OutputAudioRawFrame(TestAudio.ToBytes(s_speech24k.Value), 24_000), sent);

        var payload = JsonDocument.Parse(sent.Messages.Single().Bytes).RootElement.GetProperty("media").GetProperty("payload").GetBytesFromBase64();
        payload.Length.Should().BeCloseTo(s_speech24k.Value.Length / 3, 64, "24 kHz audio leaves at 8 kHz, one byte a sample");
    }

    private static double SignalToNoiseDb(short[] reference, short[] decoded)
    {
        double signal = 0, noise = 0;
        for (var i = 0; i < reference.Length; i++)
        {
            signal += (double)reference[i] * reference[i];
            var d = (double)reference[i] - decoded[i];
            noise += d * d;
        }
        return 10 * Math.Log10(signal / Math.Max(noise, 1));
    }
}
