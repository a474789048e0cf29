using System.Buffers;
using System.Text;
using FluentAssertions;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Speech;
using Xunit;

namespace VoicePipeline.Together.Tests.Speech;

/// <summary>The client's side of the speech wire format: events, SSE framing and PCM assembly.</summary>
public sealed class SpeechWireTests
{
    private static readonly byte[] s_pcm = Enumerable.Range(0, 300).Select(i => (byte)(i * 7)).ToArray();

    [Theory]
    [InlineData("{{\"type\":\"conversation.item.audio_output.delta\",\"item_id\":\"i1\",\"context_id\":\"c1\",\"delta\":\"{0}\"}}")]
    [InlineData("{{\"object\":\"audio.tts.chunk\",\"model\":\"hexgrad/Kokoro-82M\",\"b64\":\"{0}\"}}")]
    public void Both_audio_event_shapes_decode_to_the_same_bytes(string shape)
    {
        var json = Encoding.UTF8.GetBytes(string.Format(System.Globalization.CultureInfo.InvariantCulture, shape, Convert.ToBase64String(s_pcm)));
        var audio = new ArrayBufferWriter<byte>();

        var parsed = TtsEventParser.Parse(json, audio);

        parsed.Kind.Should().Be(TtsEventKind.Audio);
        parsed.AudioBytes.Should().Be(s_pcm.Length);
        audio.WrittenSpan.ToArray().Should().Equal(s_pcm);
    }

    [Fact]
    public void Escaped_base64_is_unescaped_before_decoding()
    {
        var b64 = Convert.ToBase64String(s_pcm).Replace("/", "\\/", StringComparison.Ordinal).Replace("+", "\\u002B", StringComparison.Ordinal);
        var audio = new ArrayBufferWriter<byte>();
        TtsEventParser.Parse(Encoding.UTF8.GetBytes($"{{\"type\":\"conversation.item.audio_output.delta\",\"delta\":\"{b64}\"}}"), audio);
        audio.WrittenSpan.ToArray().Should().Equal(s_pcm);
    }

    [Fact]
    public void Word_timestamps_become_timed_words()
    {
        var parsed = TtsEventParser.Parse("""{"type":"conversation.item.word_timestamps","words":["Hello","world"],"start_seconds":[0.05,0.5],"end_seconds":[0.45,0.9]}"""u8, new ArrayBufferWriter<byte>());

        parsed.Kind.Should().Be(TtsEventKind.Words);
        parsed.Words.Should().Equal(
            new SpeechWord("Hello", TimeSpan.FromSeconds(0.05), TimeSpan.FromSeconds(0.45)),
            new SpeechWord("world", TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(0.9)));
    }

    [Theory]
    [InlineData("""{"error":{"message":"Model overloaded","type":"server_error","code":"overloaded"}}""", "overloaded")]
    [InlineData("""{"type":"conversation.item.tts.failed","context_id":"c","error":{"message":"Model overloaded","code":503}}""", "503")]
    [InlineData("""{"type":"error","error":{"message":"Model overloaded","type":"invalid_request_error"}}""", "invalid_request_error")]
    public void Any_error_object_is_a_failure(string json, string code)
    {
        var parsed = TtsEventParser.Parse(Encoding.UTF8.GetBytes(json), new ArrayBufferWriter<byte>());
        parsed.Kind.Should().Be(TtsEventKind.Failed);
        parsed.ErrorMessage.Should().Be("Model overloaded");
        parsed.ErrorCode.Should().Be(code);
    }

    [Fact]
    public void Garbage_is_rejected_clearly()
    {
        var audio = new ArrayBufferWriter<byte>();
        FluentActions.Invoking(() => TtsEventParser.Parse("[1,2]"u8, audio)).Should().Throw<InvalidDataException>().WithInnerException<System.Text.Json.JsonException>();
        FluentActions.Invoking(() => TtsEventParser.Parse("""{"type":"conversation.item.audio_output.delta","delta":"not base64!"}"""u8, audio)).Should().Throw<InvalidDataException>().WithInnerException<FormatException>();
    }

    [Fact]
    public async Task Sse_reader_joins_data_lines_ignores_comments_and_copes_with_any_split()
    {
        var text = ": keep-alive\r\ndata: {\"a\":1}\r\n\r\nevent: x\ndata: line1\ndata: line2\n\ndata: [DONE]\n\n";
        var bytes = Encoding.UTF8.GetBytes(text);
        for (var split = 1; split < bytes.Length; split += 7)
        {
            var reader = new SseEventReader(new TrickleStream(bytes, split));
            await using (reader.ConfigureAwait(false))
            {
                var events = new List<string>();
                while (await reader.ReadAsync(CancellationToken.None) is { } data)
                    events.Add(Encoding.UTF8.GetString(data.Span));
                events.Should().Equal("{\"a\":1}", "line1\nline2", "[DONE]");
            }
        }
    }

    [Fact]
    public void Assembler_strips_a_riff_header_split_across_pieces_and_keeps_odd_bytes()
    {
        var wav = Wav(s_pcm, 24_000);
        var assembler = new PcmAssembler(24_000);
        var output = new List<byte>();
        foreach (var piece in wav.Chunk(13))
            output.AddRange(assembler.Add(piece, startsMessage: false).ToArray());

        output.Should().Equal(s_pcm);
        assembler.HasLeftover.Should().BeFalse();
    }

    [Fact]
    public void Assembler_strips_a_header_at_the_start_of_any_message_and_reports_a_cut_sample()
    {
        var assembler = new PcmAssembler(24_000);
        assembler.Add(Wav(s_pcm[..100], 24_000), startsMessage: true).ToArray().Should().Equal(s_pcm[..100]);
        assembler.Add(Wav(s_pcm[100..200], 24_000), startsMessage: true).ToArray().Should().Equal(s_pcm[100..200]);
        assembler.Add(s_pcm[200..201], startsMessage: true).IsEmpty.Should().BeTrue();
        assembler.HasLeftover.Should().BeTrue();
    }

    [Fact]
    public void Assembler_refuses_audio_in_another_format()
    {
        var assembler = new PcmAssembler(24_000);
        FluentActions.Invoking(() => assembler.Add(Wav(s_pcm, 22_050), startsMessage: true))
            .Should().Throw<TogetherApiException>().WithMessage("*22050 Hz*expected 16-bit PCM mono at 24000 Hz*");
    }

    private static byte[] Wav(byte[] pcm, int rate)
    {
        using var stream = new MemoryStream();
        using (var writer = new VoicePipeline.Audio.WavWriter(stream, rate, leaveOpen: true))
            writer.WriteBytes(pcm);
        return stream.ToArray();
    }

    /// <summary>Returns at most <c>max</c> bytes per read, as a network does.</summary>
    private sealed class TrickleStream(byte[] data, int max) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, max));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, max)]);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => base.ReadAsync(buffer[..Math.Min(buffer.Length, max)], cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => base.ReadAsync(buffer, offset, Math.Min(count, max), cancellationToken);
    }
}
