using System.Text;
using System.Text.Json;
using CsCheck;
using Google.Protobuf;
using VoicePipeline.Audio;
using VoicePipeline.Frames;
using VoicePipeline.Testing;
using VoicePipeline.Tests.Shared;
using VoicePipeline.Transports.WebSockets.Rtvi;
using VoicePipeline.Transports.WebSockets.Serializers;

namespace VoicePipeline.Transports.WebSockets.Tests.Serializers;

/// <summary>
/// Random and mutated client messages thrown at every serializer and at RTVI. The contract: a serializer never throws
/// for what a client sent (a message it cannot read is counted in its <c>InvalidMessages</c> and dropped), and the audio
/// it hands over always has a rate and a channel count the transport can convert; RTVI answers a bad message with an
/// <c>error-response</c>, never an exception.
/// </summary>
public class SerializerPropertyTests
{
    private static readonly string[] s_twilioNames =
    [
        "event", "media", "track", "payload", "start", "streamSid", "callSid", "customParameters", "dtmf", "digit", "mark", "name",
        "sequenceNumber", "connected", "stop", "inbound", "outbound", "MZ123", "//8A", "not base64!",
    ];

    private static readonly string[] s_twilioSeeds =
    [
        """{"event":"connected","protocol":"Call","version":"1.0.0"}""",
        """{"event":"start","sequenceNumber":"1","start":{"streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"customParameters":{"a":"b"},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"MZ1"}""",
        """{"event":"media","sequenceNumber":"2","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"//////////////////////8="},"streamSid":"MZ1"}""",
        """{"event":"dtmf","streamSid":"MZ1","sequenceNumber":"3","dtmf":{"track":"inbound_track","digit":"1"}}""",
        """{"event":"mark","sequenceNumber":"4","streamSid":"MZ1","mark":{"name":"m1"}}""",
        """{"event":"stop","sequenceNumber":"5","streamSid":"MZ1","stop":{"accountSid":"AC1","callSid":"CA1"}}""",
    ];

    private static readonly string[] s_rtviNames =
    [
        "label", "type", "id", "data", "version", "t", "d", "content", "options", "run_immediately", "rtvi-ai",
        "client-ready", "client-message", "send-text", "describe-actions", "1.0.0", "2.1.0", "99.x", "hello",
    ];

    [Fact]
    public void Raw_pcm_takes_any_message()
        => Check(() => new RawPcmSerializer(inputSampleRate: 16_000), Gen.Byte.Array[0, 2048], _ => 0);

    [Fact]
    public void Twilio_takes_any_message_and_counts_the_bad_ones()
        => Check(() => new TwilioFrameSerializer(), HostileJson.Messages(s_twilioNames, s_twilioSeeds), s => s.InvalidMessages);

    [Fact]
    public async Task Protobuf_takes_any_message_and_counts_the_bad_ones()
    {
        var seeds = await ProtobufSeedsAsync();
        var mutated = Gen.Select(Gen.Int[0, seeds.Length - 1], HostileJson.Mutation.Array[1, 4]).Select((seed, mutations) => HostileJson.Mutate(seeds[seed], mutations));
        Check(() => new ProtobufFrameSerializer(), Gen.Frequency((4, mutated), (1, Gen.Byte.Array[0, 512])), s => s.InvalidMessages);
    }

    [Theory]
    [InlineData(1u, 1u)]           // 1 Hz: no resampler takes that
    [InlineData(16_001u, 1u)]      // a ratio too fine to resample
    [InlineData(0x8000_0000u, 1u)] // negative once cast to int
    [InlineData(16_000u, 65_535u)] // no microphone has that many channels
    public void Protobuf_audio_at_a_rate_or_channel_count_the_transport_cannot_take_is_dropped_and_counted(uint rate, uint channels)
    {
        var serializer = new ProtobufFrameSerializer();
        var input = new ConvertingInput();

        serializer.Deserialize(AudioFrame(rate, channels, 640), WireMessageType.Binary, input);

        input.AudioBytes.Should().Be(0);
        serializer.InvalidMessages.Should().Be(1);
    }

    [Fact]
    public async Task Rtvi_answers_any_message_without_failing()
    {
        var rtvi = new RtviProcessor();
        await using var harness = await FrameProcessorHarness.StartAsync(rtvi, new HarnessOptions { Timeout = TimeSpan.FromSeconds(60) });
        var messages = Gen.Select(HostileJson.Object(s_rtviNames, HostileJson.Value(s_rtviNames)), Gen.Bool)
            .Select((json, labelled) => labelled ? "{\"label\":\"rtvi-ai\"," + json.TrimStart('{').TrimStart() : json)
            .Select(json => json.EndsWith(",}", StringComparison.Ordinal) ? json[..^2] + "}" : json);
        var sent = 0;
        await messages.SampleAsync(async json =>
        {
            if (json.Contains("disconnect-bot", StringComparison.Ordinal))
                return; // ends the pipeline, by design
            JsonElement message;
            try
            {
                using var document = JsonDocument.Parse(json);
                message = document.RootElement.Clone();
            }
            catch (JsonException)
            {
                return; // the serializer drops what is not JSON before RTVI sees it
            }
            await harness.SendAsync(new InputTransportMessageFrame(message));
            sent++;
        }, iter: 2_000, threads: 1);
        await harness.EndAsync();

        sent.Should().BeGreaterThan(500);
        harness.Upstream.OfType<ErrorFrame>().Should().BeEmpty("no message made the processor fail");
    }

    private static void Check<TSerializer>(Func<TSerializer> create, Gen<byte[]> messages, Func<TSerializer, int> invalid) where TSerializer : IFrameSerializer
    {
        var start = new StartFrame { AudioInSampleRate = 16_000, AudioOutSampleRate = 24_000 };
        Gen.Select(messages, Gen.Bool).Sample((message, binary) =>
        {
            var serializer = create();
            serializer.Setup(start);
            var input = new ConvertingInput();
            var before = invalid(serializer);
            serializer.Deserialize(message, binary ? WireMessageType.Binary : WireMessageType.Text, input);
            invalid(serializer).Should().BeInRange(before, before + 1);
            input.AudioBytes.Should().BeLessThanOrEqualTo(2L * message.Length, "audio comes from the message (μ-law doubles)");
        }, iter: 20_000, threads: 1, print: t => $"{(t.Item2 ? "binary" : "text")} {Convert.ToHexString(t.Item1)} {Encoding.UTF8.GetString(t.Item1)}");
    }

    private static async Task<byte[][]> ProtobufSeedsAsync()
    {
        var serializer = new ProtobufFrameSerializer { SendTextFrames = true };
        var sent = new CollectedMessages();
        using var json = JsonDocument.Parse("""{"label":"rtvi-ai","type":"client-ready","id":"1","data":{"version":"2.1.0"}}""");
        await serializer.SerializeAsync(new OutputAudioRawFrame(new byte[640], 16_000), sent);
        await serializer.SerializeAsync(new OutputTransportMessageUrgentFrame(json.RootElement), sent);
        await serializer.SerializeAsync(new TranscriptionFrame("hello", "user", DateTimeOffset.UnixEpoch, finalized: true), sent);
        await serializer.SerializeAsync(new TextFrame("Hi."), sent);
        await serializer.SerializeAsync(new InterruptionFrame(), sent);
        return [.. sent.Messages.Select(m => m.Bytes), AudioFrame(16_000, 1, 64), AudioFrame(48_000, 2, 64)];
    }

    /// <summary>A <c>pipecat.Frame</c> holding an <c>AudioRawFrame</c>, encoded field by field as a client would.</summary>
    private static byte[] AudioFrame(uint rate, uint channels, int bytes)
    {
        using var inner = new MemoryStream();
        var audio = new CodedOutputStream(inner);
        audio.WriteTag(3, WireFormat.WireType.LengthDelimited);
        audio.WriteBytes(ByteString.CopyFrom(new byte[bytes]));
        audio.WriteTag(4, WireFormat.WireType.Varint);
        audio.WriteUInt32(rate);
        audio.WriteTag(5, WireFormat.WireType.Varint);
        audio.WriteUInt32(channels);
        audio.Flush();
        using var outer = new MemoryStream();
        var frame = new CodedOutputStream(outer);
        frame.WriteTag(2, WireFormat.WireType.LengthDelimited);
        frame.WriteBytes(ByteString.CopyFrom(inner.ToArray()));
        frame.Flush();
        return outer.ToArray();
    }

    /// <summary>Takes audio as the WebSocket transport does: through a <see cref="MonoConverter"/> to the pipeline's rate.</summary>
    private sealed class ConvertingInput : IDeserializedInput
    {
        public long AudioBytes { get; private set; }

        public void AddAudio(ReadOnlySpan<byte> pcm, int sampleRate, int channels)
        {
            var converter = new MonoConverter(sampleRate, channels, 16_000); // throws for what the transport cannot take
            var samples = new short[pcm.Length / 2 / channels * channels];
            for (var i = 0; i < samples.Length; i++)
                samples[i] = (short)(pcm[2 * i] | (pcm[2 * i + 1] << 8));
            converter.Convert(samples);
            AudioBytes += pcm.Length;
        }

        public void AddFrame(Frame frame) => frame.Should().NotBeNull();
    }
}
