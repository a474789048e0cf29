using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using VoicePipeline.Together.Emulator.Synthesis;

namespace VoicePipeline.Together.Emulator.Tests.Speech;

/// <summary>Another engine can replace espeak-ng behind the speech endpoints.</summary>
public sealed class CustomSynthesizerTests
{
    /// <summary>Speaks every word as 100 ms of a 440 Hz tone at 16 kHz; refuses German.</summary>
    private sealed class ToneSynthesizer : ISpeechSynthesizer
    {
        public List<SynthesisRequest> Requests { get; } = [];

        public SynthesisResult Synthesize(SynthesisRequest request)
        {
            lock (Requests)
                Requests.Add(request);
            if (request.Language == "de")
                throw new NotSupportedException("no German");
            var words = request.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var samples = Enumerable.Range(0, words.Length * 1600).Select(i => (short)(8000 * Math.Sin(2 * Math.PI * 440 * i / 16000.0))).ToArray();
            return new SynthesisResult(samples, 16_000, words.Select((w, i) => new SynthesizedWord(w, TimeSpan.FromMilliseconds(i * 100), TimeSpan.FromMilliseconds(i * 100 + 100))).ToArray());
        }
    }

    [Fact]
    public async Task The_configured_engine_speaks_and_its_audio_is_resampled_to_the_asked_rate()
    {
        var engine = new ToneSynthesizer();
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { SpeechSynthesizer = engine });
        using var http = new HttpClient { BaseAddress = new Uri(emulator.BaseUrl + "/") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "k");

        using var raw = await http.PostAsJsonAsync("audio/speech", new { model = "hexgrad/Kokoro-82M", input = "one two three", voice = "bm_george", response_format = "raw", speed = 1.25 });
        using var german = await http.PostAsJsonAsync("audio/speech", new { model = "hexgrad/Kokoro-82M", input = "eins", voice = "bm_george", language = "de" });

        var pcm = await raw.Content.ReadAsByteArrayAsync();
        pcm.Length.Should().Be(3 * 2400 * 2, "0.3 s at 24 kHz");
        pcm.Should().Equal(emulator.Synthesize("one two three", "hexgrad/Kokoro-82M", "bm_george", 1.25));
        engine.Requests[0].Should().Be(new SynthesisRequest("one two three", "hexgrad/Kokoro-82M", "bm_george", Female: false, British: true, Language: null, Speed: 1.25));
        german.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        JsonDocument.Parse(await german.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString().Should().Be("unsupported_language");
    }

    [Fact]
    public void The_tone_engine_sounds_each_word_for_its_duration_at_24_kHz_with_word_timings()
    {
        var engine = new ToneSpeechSynthesizer();

        var speech = engine.Synthesize(new SynthesisRequest("You said: utterance 7.", "m", "v", Female: false, British: false, Language: null, Speed: 2));

        speech.SampleRate.Should().Be(24_000);
        speech.Samples.Length.Should().Be(4 * 3000, "four words of 125 ms at speed 2");
        speech.Words.Select(w => w.Word).Should().Equal("You", "said:", "utterance", "7.");
        speech.Words[^1].End.Should().Be(TimeSpan.FromMilliseconds(500));
        speech.Samples.Max().Should().BeGreaterThan((short)7000, "a tone, not silence");
        engine.Synthesize(new SynthesisRequest("You said: utterance 7.", "m", "v", false, false, null, 2)).Samples.Should().Equal(speech.Samples);
    }

    [Theory]
    [InlineData("af_heart", null, "en-us+f3")]
    [InlineData("am_adam", null, "en-us")]
    [InlineData("bf_emma", null, "en-gb+f3")]
    [InlineData("bm_george", "en", "en-gb")]
    [InlineData("tara", "fr", "fr+f3")]
    public void Voices_map_to_espeak_voices(string voice, string? language, string espeak)
    {
        var female = voice.StartsWith("af_", StringComparison.Ordinal) || voice.StartsWith("bf_", StringComparison.Ordinal) || voice == "tara";
        var british = voice.StartsWith('b');

        EspeakSpeechSynthesizer.EspeakVoice(new SynthesisRequest("x", "m", voice, female, british, language, 1)).Should().Be(espeak);
    }
}
