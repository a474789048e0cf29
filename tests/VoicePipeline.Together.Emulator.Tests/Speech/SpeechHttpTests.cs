using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using VoicePipeline.Together.Emulator.Speech;

namespace VoicePipeline.Together.Emulator.Tests.Speech;

/// <summary><c>POST /v1/audio/speech</c> and <c>GET /v1/voices</c> over real sockets, with a raw HTTP client.</summary>
public sealed class SpeechHttpTests : IAsyncLifetime
{
    private const string Kokoro = "hexgrad/Kokoro-82M";
    private const string Text = "Hello there, how are you?";

    private TogetherEmulator _emulator = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _emulator = await TogetherEmulator.StartAsync();
        _http = new HttpClient { BaseAddress = new Uri(_emulator.BaseUrl + "/") };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "k");
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _emulator.DisposeAsync();
    }

    private Task<HttpResponseMessage> PostAsync(object body) => _http.PostAsJsonAsync("audio/speech", body);

    [Fact]
    public async Task A_wav_body_carries_the_same_pcm_as_Synthesize_at_24_kHz()
    {
        using var response = await PostAsync(new { model = Kokoro, input = Text, voice = "af_heart" });

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("audio/wav");
        var wav = await response.Content.ReadAsByteArrayAsync();
        Encoding.ASCII.GetString(wav, 0, 4).Should().Be("RIFF");
        Encoding.ASCII.GetString(wav, 8, 4).Should().Be("WAVE");
        BinaryPrimitives.ReadInt32LittleEndian(wav.AsSpan(24)).Should().Be(24_000);
        BinaryPrimitives.ReadInt16LittleEndian(wav.AsSpan(34)).Should().Be(16);
        BinaryPrimitives.ReadInt32LittleEndian(wav.AsSpan(40)).Should().Be(wav.Length - 44);
        var expected = _emulator.Synthesize(Text, Kokoro, "af_heart");
        wav.AsSpan(44).ToArray().Should().Equal(expected);
        (expected.Length / 2 / 24000.0).Should().BeInRange(1, 4, "six words take about two seconds");
        var log = _emulator.SpeechRequests.Should().ContainSingle().Subject;
        log.Transport.Should().Be(SpeechTransport.Rest);
        log.Text.Should().Be(Text);
        log.FirstAudioAfter.Should().NotBeNull();
    }

    [Fact]
    public async Task Raw_f32le_at_another_rate_is_the_s16_audio_as_floats()
    {
        using var response = await PostAsync(new { model = Kokoro, input = Text, voice = "am_adam", response_format = "raw", response_encoding = "pcm_f32le", sample_rate = 16000, speed = 1.5 });

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var raw = await response.Content.ReadAsByteArrayAsync();
        var s16 = _emulator.Synthesize(Text, Kokoro, "am_adam", 1.5, 16000);
        raw.Length.Should().Be(s16.Length * 2);
        for (var i = 0; i < s16.Length / 2; i += 97)
            BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan(i * 4)).Should().Be(BinaryPrimitives.ReadInt16LittleEndian(s16.AsSpan(i * 2)) / 32768f);
        (s16.Length / 2 / 16000.0).Should().BeLessThan(_emulator.Synthesize(Text, Kokoro, "am_adam").Length / 2 / 24000.0, "1.5x speed is faster");
    }

    [Fact]
    public async Task Mulaw_is_one_byte_per_sample()
    {
        using var response = await PostAsync(new { model = Kokoro, input = "Hi.", voice = "af_heart", response_format = "mulaw", sample_rate = 8000 });

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsByteArrayAsync()).Length.Should().Be(_emulator.Synthesize("Hi.", Kokoro, "af_heart", sampleRate: 8000).Length / 2);
    }

    [Theory]
    [InlineData(SpeechSseShape.Delta)]
    [InlineData(SpeechSseShape.Chunk)]
    public async Task Sse_in_either_shape_decodes_to_the_same_pcm_with_word_timestamps_first_and_done_last(SpeechSseShape shape)
    {
        _emulator.Options.SpeechFaults.SseShape = shape;

        var events = await StreamAsync(new { model = Kokoro, input = Text, voice = "af_heart", response_format = "raw", stream = true });

        var words = JsonDocument.Parse(events[0]).RootElement;
        words.GetProperty("type").GetString().Should().Be("conversation.item.word_timestamps");
        words.GetProperty("words").EnumerateArray().Select(w => w.GetString()).Should().Equal("Hello", "there", "how", "are", "you");
        words.GetProperty("start_seconds").EnumerateArray().Select(s => s.GetDouble()).Should().BeInAscendingOrder();
        events[^1].Should().Be("[DONE]");
        var audio = events.Skip(1).SkipLast(1).Select(e => JsonDocument.Parse(e).RootElement).ToList();
        audio.Should().OnlyContain(e => shape == SpeechSseShape.Delta
            ? e.GetProperty("type").GetString() == "conversation.item.audio_output.delta"
            : e.GetProperty("object").GetString() == "audio.tts.chunk" && e.GetProperty("model").GetString() == Kokoro);
        var pcm = audio.SelectMany(e => Convert.FromBase64String(e.GetProperty(shape == SpeechSseShape.Delta ? "delta" : "b64").GetString()!)).ToArray();
        pcm.Should().Equal(_emulator.Synthesize(Text, Kokoro, "af_heart"));
        Convert.FromBase64String(audio[0].GetProperty(shape == SpeechSseShape.Delta ? "delta" : "b64").GetString()!).Length.Should().Be(4800, "100 ms at 24 kHz");
        _emulator.SpeechRequests.Single().Transport.Should().Be(SpeechTransport.Sse);
    }

    [Fact]
    public async Task Sse_carries_the_asked_encoding_and_refuses_a_format_other_than_raw()
    {
        var events = await StreamAsync(new { model = Kokoro, input = "Hi.", voice = "af_heart", stream = true, response_encoding = "pcm_f32le" });
        using var wav = await PostAsync(new { model = Kokoro, input = "Hi.", voice = "af_heart", stream = true, response_format = "wav" });

        var f32 = events.Skip(1).SkipLast(1).SelectMany(e => Convert.FromBase64String(JsonDocument.Parse(e).RootElement.GetProperty("delta").GetString()!)).ToArray();
        f32.Length.Should().Be(_emulator.Synthesize("Hi.", Kokoro, "af_heart").Length * 2);
        wav.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        JsonDocument.Parse(await wav.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("param").GetString().Should().Be("response_format");
    }

    [Fact]
    public async Task With_a_riff_header_in_audio_the_first_sse_chunk_starts_with_RIFF()
    {
        _emulator.Options.SpeechFaults.RiffHeaderInAudio = true;

        var events = await StreamAsync(new { model = Kokoro, input = "Hi.", voice = "af_heart", response_format = "raw", stream = true });

        var chunks = events.Skip(1).SkipLast(1).Select(e => Convert.FromBase64String(JsonDocument.Parse(e).RootElement.GetProperty("delta").GetString()!)).ToList();
        Encoding.ASCII.GetString(chunks[0], 0, 4).Should().Be("RIFF");
        chunks.SelectMany(c => c).Skip(44).Should().Equal(_emulator.Synthesize("Hi.", Kokoro, "af_heart"));
    }

    [Fact]
    public async Task A_failure_part_way_sends_an_error_event_and_no_done()
    {
        _emulator.Options.SpeechFaults.FailMidStreamAfterChunks = 2;

        var events = await StreamAsync(new { model = Kokoro, input = Text, voice = "af_heart", response_format = "raw", stream = true });

        events.Should().HaveCount(4, "word timestamps, two audio chunks, the error");
        JsonDocument.Parse(events[^1]).RootElement.GetProperty("error").GetProperty("code").GetString().Should().Be("synthesis_failed");
        events.Should().NotContain("[DONE]");
    }

    [Fact]
    public async Task A_failure_part_way_cuts_a_plain_body_off()
    {
        _emulator.Options.SpeechFaults.FailMidStreamAfterChunks = 1;

        using var request = new HttpRequestMessage(HttpMethod.Post, "audio/speech") { Content = JsonContent.Create(new { model = Kokoro, input = Text, voice = "af_heart" }) };
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var act = () => response.Content.ReadAsByteArrayAsync();

        await act.Should().ThrowAsync<Exception>().Where(e => e is HttpRequestException || e is IOException);
    }

    [Fact]
    public async Task Voices_lists_the_models_and_their_voices()
    {
        using var response = await _http.GetAsync("voices");

        var data = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("data").EnumerateArray().ToList();
        data.Select(m => m.GetProperty("model").GetString()).Should().Contain([Kokoro, "canopylabs/orpheus-3b-0.1-ft", "cartesia/sonic-2", "cartesia/sonic", "rime-labs/rime-arcana-v3-turbo", "minimax/speech-2.6-turbo"]);
        data.Single(m => m.GetProperty("model").GetString() == "canopylabs/orpheus-3b-0.1-ft").GetProperty("voices").EnumerateArray()
            .Select(v => v.GetProperty("id").GetString()).Should().BeEquivalentTo("tara", "leah", "leo", "dan", "mia", "zac");
        data.Single(m => m.GetProperty("model").GetString() == Kokoro).GetProperty("voices").EnumerateArray()
            .Select(v => v.GetProperty("name").GetString()).Should().Contain(["af_heart", "af_bella", "am_adam", "bf_emma", "bm_george"]);
    }

    [Fact]
    public async Task Without_a_key_the_answer_is_401()
    {
        using var anonymous = new HttpClient();
        using var response = await anonymous.PostAsJsonAsync(new Uri(_emulator.BaseUrl + "/audio/speech"), new { model = Kokoro, input = "Hi.", voice = "af_heart" });

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString().Should().Be("invalid_api_key");
    }

    [Theory]
    [InlineData(Kokoro, "tara", "Hi.", 400, "invalid_voice", "voice")]
    [InlineData("no/such-model", "af_heart", "Hi.", 404, "model_not_available", "model")]
    [InlineData(Kokoro, "af_heart", "", 400, "invalid_request", "input")]
    [InlineData(Kokoro, "", "Hi.", 400, "invalid_request", "voice")]
    public async Task Bad_requests_are_refused_with_together_errors(string model, string voice, string input, int status, string code, string param)
    {
        using var response = await PostAsync(new { model, input, voice });

        ((int)response.StatusCode).Should().Be(status);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        error.GetProperty("code").GetString().Should().Be(code);
        error.GetProperty("type").GetString().Should().Be("invalid_request_error");
        error.GetProperty("param").GetString().Should().Be(param);
        error.GetProperty("message").GetString().Should().NotBeNullOrEmpty();
    }

    [Fact]
    public async Task An_injected_429_carries_retry_after_and_the_next_request_succeeds()
    {
        _emulator.Options.SpeechFaults.RetryAfterSeconds = 7;
        _emulator.Options.SpeechFaults.FailNext(429);

        using var refused = await PostAsync(new { model = Kokoro, input = "Hi.", voice = "af_heart" });
        using var served = await PostAsync(new { model = Kokoro, input = "Hi.", voice = "af_heart" });

        refused.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        refused.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(7));
        JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString().Should().Be("rate_limit_exceeded");
        served.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Mp3_is_encoded_by_ffmpeg()
    {
        using var response = await PostAsync(new { model = Kokoro, input = "Hi.", voice = "af_heart", response_format = "mp3" });

        response.Content.Headers.ContentType!.MediaType.Should().Be("audio/mpeg");
        var mp3 = await response.Content.ReadAsByteArrayAsync();
        (Encoding.ASCII.GetString(mp3, 0, 3) == "ID3" || (mp3[0] == 0xFF && (mp3[1] & 0xE0) == 0xE0)).Should().BeTrue("an MP3 starts with an ID3 tag or a frame sync");
    }

    [Fact]
    public async Task The_first_byte_delay_holds_the_first_audio_back()
    {
        _emulator.Options.SpeechFaults.FirstByteDelay = TimeSpan.FromMilliseconds(300);

        using var response = await PostAsync(new { model = Kokoro, input = "Hi.", voice = "af_heart" });

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        _emulator.SpeechRequests.Single().FirstAudioAfter.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task Another_language_is_spoken_by_its_espeak_voice_and_an_unknown_one_is_refused()
    {
        using var french = await PostAsync(new { model = Kokoro, input = "Bonjour tout le monde.", voice = "af_heart", language = "fr" });
        using var unknown = await PostAsync(new { model = Kokoro, input = "Hi.", voice = "af_heart", language = "xx-nowhere" });

        french.StatusCode.Should().Be(HttpStatusCode.OK);
        unknown.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        JsonDocument.Parse(await unknown.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString().Should().Be("unsupported_language");
    }

    [Theory]
    [InlineData(0, 0xFF, 0xD5)]
    [InlineData(-1, 0x7E, 0x55)]
    [InlineData(5, 0xFE, 0xD5)]
    [InlineData(-5, 0x7E, 0x55)]
    [InlineData(100, 0xF2, 0xD3)]
    [InlineData(-100, 0x72, 0x53)]
    [InlineData(1000, 0xCE, 0xFA)]
    [InlineData(-1000, 0x4E, 0x7A)]
    [InlineData(4095, 0xAF, 0x9A)]
    [InlineData(-4096, 0x2F, 0x1A)]
    [InlineData(12345, 0x97, 0xBD)]
    [InlineData(-12345, 0x17, 0x3D)]
    [InlineData(32767, 0x80, 0xAA)]
    [InlineData(-32768, 0x00, 0x2A)]
    [InlineData(-32767, 0x00, 0x2A)]
    [InlineData(8000, 0xA0, 0x8A)]
    [InlineData(-8000, 0x20, 0x0A)]
    public void G711_matches_the_reference_encoder_values_of_python_audioop(short sample, byte mulaw, byte alaw)
    {
        G711.MuLaw(sample).Should().Be(mulaw);
        G711.ALaw(sample).Should().Be(alaw);
    }

    /// <summary>Posts and reads the <c>data:</c> payloads of the SSE answer until it ends.</summary>
    private async Task<List<string>> StreamAsync(object body)
    {
        using var response = await _http.PostAsJsonAsync("audio/speech", body);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        var events = new List<string>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
                events.Add(line["data: ".Length..]);
            else
                line.Should().BeEmpty("events are single data lines separated by blank lines");
        }
        return events;
    }
}
