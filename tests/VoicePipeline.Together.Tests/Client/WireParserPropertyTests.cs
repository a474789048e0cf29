using System.Buffers;
using System.Text;
using CsCheck;
using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using VoicePipeline.Tests.Shared;
using VoicePipeline.Together.Realtime;
using VoicePipeline.Together.Speech;
using Xunit;

namespace VoicePipeline.Together.Tests.Client;

/// <summary>
/// Random and mutated server input thrown at every parser of the Together clients. The typed errors they may answer
/// with: <see cref="InvalidDataException"/> from the SSE reader and the speech event parser (the clients turn it into a
/// <see cref="Together.Client.TogetherApiException"/> with code <c>invalid_event</c>), none at all from the realtime
/// event reader (a bad message is a <c>&lt;garbage&gt;</c> event, logged and skipped).
/// </summary>
public sealed class WireParserPropertyTests
{
    private static readonly string[] s_ttsNames =
    [
        "type", "object", "context_id", "delta", "b64", "words", "start_seconds", "end_seconds", "error", "message", "code",
        "session.created", "conversation.item.audio_output.delta", "conversation.item.audio_output.done", "conversation.item.word_timestamps",
        "conversation.item.tts.failed", "context.cancelled", "audio.tts.chunk", "AAEC", "AAECAw==", "not base64!",
    ];

    private static readonly string[] s_ttsSeeds =
    [
        """{"type":"conversation.item.audio_output.delta","item_id":"i1","context_id":"c1","delta":"AAECAwQFBgc="}""",
        """{"object":"audio.tts.chunk","model":"hexgrad/Kokoro-82M","b64":"AAECAwQFBgc="}""",
        """{"type":"conversation.item.word_timestamps","context_id":"c1","words":["Hello","world"],"start_seconds":[0.05,0.5],"end_seconds":[0.45,0.9]}""",
        """{"type":"conversation.item.tts.failed","context_id":"c","error":{"message":"Model overloaded","code":503}}""",
        """{"error":{"message":"Model overloaded","type":"server_error","code":"overloaded"}}""",
        """{"type":"session.created","session":{"id":"s1"}}""",
        """{"type":"conversation.item.audio_output.done","context_id":"c1"}""",
    ];

    private static readonly string[] s_realtimeNames =
    [
        "type", "audio", "session", "item_id", "delta", "transcript", "start", "duration", "language", "event_type", "error",
        "message", "code", "echo_id", "processed_ms", "id", "object", "model", "prompt",
        RealtimeEventTypes.SessionCreated, RealtimeEventTypes.Delta, RealtimeEventTypes.Completed, RealtimeEventTypes.Failed,
        RealtimeEventTypes.Error, RealtimeEventTypes.Committed, "invalid_api_key", "rate_limit_exceeded",
    ];

    private static readonly string[] s_realtimeSeeds =
    [
        """{"type":"session.created","session":{"id":"sess_1","object":"realtime.transcription_session","model":"openai/whisper-large-v3"}}""",
        """{"type":"conversation.item.input_audio_transcription.delta","item_id":"i1","delta":"hello"}""",
        """{"type":"conversation.item.input_audio_transcription.completed","item_id":"i1","transcript":"hello there","start":0.5,"duration":1.25,"language":"en"}""",
        """{"type":"conversation.item.input_audio_transcription.failed","event_type":"turn","error":{"message":"bad audio","code":"invalid_audio"}}""",
        """{"type":"error","error":{"message":"Invalid API key","type":"invalid_request_error","code":"invalid_api_key"}}""",
        """{"type":"error","message":"slow down","code":"rate_limit_exceeded"}""",
    ];

    [Fact]
    public void Speech_events_give_only_typed_errors_and_checked_values()
    {
        var audio = new ArrayBufferWriter<byte>();
        HostileJson.Messages(s_ttsNames, s_ttsSeeds).Sample(json =>
        {
            audio.ResetWrittenCount();
            TtsEvent parsed;
            try
            {
                parsed = TtsEventParser.Parse(json, audio);
            }
            catch (InvalidDataException)
            {
                return;
            }
            parsed.AudioBytes.Should().Be(audio.WrittenCount).And.BeLessThanOrEqualTo(json.Length);
            foreach (var word in parsed.Words ?? [])
            {
                word.Start.Should().BeGreaterThanOrEqualTo(TimeSpan.Zero);
                word.End.Should().BeGreaterThanOrEqualTo(word.Start).And.BeLessThanOrEqualTo(TimeSpan.FromSeconds(TtsEventParser.MaxWordSeconds));
            }
            if (parsed.Kind == TtsEventKind.Failed)
                parsed.ErrorMessage.Should().NotBeNull();
        }, iter: 20_000, threads: 1, print: json => Encoding.UTF8.GetString(json));
    }

    [Theory]
    [InlineData("""{"type":"conversation.item.word_timestamps","words":["a"],"start_seconds":[-1]}""")]
    [InlineData("""{"type":"conversation.item.word_timestamps","words":["a"],"start_seconds":[1e300]}""")]
    [InlineData("""{"type":"conversation.item.word_timestamps","words":["a"],"start_seconds":[2],"end_seconds":[1]}""")]
    [InlineData("""{"type":"conversation.item.word_timestamps","words":["a"],"start_seconds":["0.5"]}""")]
    [InlineData("""{"type":"conversation.item.word_timestamps","words":[7]}""")]
    [InlineData("""{"type":"conversation.item.word_timestamps","words":[["a"]]}""")]
    public void A_field_of_the_wrong_type_or_out_of_range_is_an_invalid_event(string json)
    {
        var act = () => TtsEventParser.Parse(Encoding.UTF8.GetBytes(json), new ArrayBufferWriter<byte>());

        act.Should().Throw<InvalidDataException>().WithMessage("A speech event is not valid: *");
    }

    [Fact]
    public async Task Server_sent_events_give_only_typed_errors_and_bounded_events()
    {
        const int max = 512;
        var lines = Gen.Frequency(
            (4, Gen.OneOf("data: ", "data:", ": ", "event: x", "", "\r", "data: [DONE]", "id: 1", "retry: 5")),
            (4, Gen.String[0, 200]),
            (1, Gen.Char['a', 'z'].Array[0, 2 * max].Select(c => "data: " + new string(c))));
        var streams = Gen.Select(lines.Array[0, 30], Gen.OneOf("\n", "\r\n"), Gen.Int[1, 64], Gen.Bool)
            .Select((parts, newline, split, finished) => (Bytes: Encoding.UTF8.GetBytes(string.Join(newline, parts) + (finished ? newline : "")), Split: split));
        await streams.SampleAsync(async stream =>
        {
            var reader = new SseEventReader(new TrickleStream(stream.Bytes, stream.Split), max);
            await using (reader.ConfigureAwait(false))
            {
                try
                {
                    while (await reader.ReadAsync(CancellationToken.None) is { } data)
                        data.Length.Should().BeLessThanOrEqualTo(max);
                }
                catch (InvalidDataException)
                {
                }
            }
        }, iter: 5_000, threads: 1);
    }

    [Fact]
    public async Task An_unfinished_line_is_refused_once_it_outgrows_the_bound_not_read_to_the_end()
    {
        // 1 MiB of data with no line feed: a server (or a proxy) that never ends its line must not make the client buffer it all.
        var bytes = Encoding.ASCII.GetBytes("data: " + new string('A', 1024 * 1024));
        var source = new TrickleStream(bytes, 4096);
        var reader = new SseEventReader(source, maxEventBytes: 1024);
        await using (reader.ConfigureAwait(false))
        {
            var act = async () => await reader.ReadAsync(CancellationToken.None);

            await act.Should().ThrowAsync<InvalidDataException>().WithMessage("*longer than 1024 bytes without a line feed*");
            source.Position.Should().BeLessThan(64 * 1024, "the reader stops soon after the bound instead of reading the whole line");
        }
    }

    [Fact]
    public void Realtime_events_never_throw_and_bad_ones_are_garbage()
    {
        HostileJson.Messages(s_realtimeNames, s_realtimeSeeds).Sample(json =>
        {
            var parsed = RealtimeConnection.Parse(json);
            if (parsed is not null)
                _ = TogetherRealtimeSession.ToSttEvent(parsed, NullLogger.Instance);
        }, iter: 20_000, threads: 1, print: json => Encoding.UTF8.GetString(json));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"type":"error","code":503}""")]
    [InlineData("""{"type":7}""")]
    [InlineData("""{"type":"conversation.item.input_audio_transcription.completed","start":"soon"}""")]
    public void A_realtime_message_of_the_wrong_shape_is_garbage(string json)
    {
        RealtimeConnection.Parse(Encoding.UTF8.GetBytes(json))!.Type.Should().Be(RealtimeConnection.GarbageType);
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
