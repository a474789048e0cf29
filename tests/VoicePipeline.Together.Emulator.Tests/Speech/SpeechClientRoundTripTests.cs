using VoicePipeline.Together.Client;
using VoicePipeline.Together.Speech;

namespace VoicePipeline.Together.Emulator.Tests.Speech;

/// <summary>The repository's own speech client against the emulator: each transport gives the bytes the emulator synthesizes.</summary>
public sealed class SpeechClientRoundTripTests : IAsyncLifetime
{
    private const string Orpheus = "canopylabs/orpheus-3b-0.1-ft";
    private const string Text = "The emulator speaks with espeak.";

    private TogetherEmulator _emulator = null!;
    private TogetherSpeechClient _client = null!;

    public async Task InitializeAsync()
    {
        _emulator = await TogetherEmulator.StartAsync();
        _client = new TogetherSpeechClient(new TogetherClientOptions { ApiKey = "k", BaseUrl = _emulator.BaseUrl, RetryBaseDelay = TimeSpan.FromMilliseconds(1) });
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _emulator.DisposeAsync();
    }

    private static SpeechRequest Request(int sampleRate = 24_000) => new() { Input = Text, Model = Orpheus, Voice = "tara", SampleRate = sampleRate };

    [Theory]
    [InlineData(TogetherTtsMode.Sse, 24_000)]
    [InlineData(TogetherTtsMode.Rest, 24_000)]
    [InlineData(TogetherTtsMode.Sse, 16_000)]
    public async Task Streams_decode_to_the_emulators_pcm(TogetherTtsMode mode, int sampleRate)
    {
        var audio = new List<byte>();
        var words = new List<SpeechWord>();
        await foreach (var chunk in _client.StreamAsync(Request(sampleRate), mode))
        {
            audio.AddRange(chunk.Audio.ToArray());
            words.AddRange(chunk.Words ?? []);
        }

        audio.Should().Equal(_emulator.Synthesize(Text, Orpheus, "tara", sampleRate: sampleRate));
        if (mode == TogetherTtsMode.Sse)
            words.Select(w => w.Text).Should().Equal("The", "emulator", "speaks", "with", "espeak");
    }

    [Fact]
    public async Task The_sse_stream_survives_a_riff_header_and_the_chunk_shape()
    {
        _emulator.Options.SpeechFaults.RiffHeaderInAudio = true;
        _emulator.Options.SpeechFaults.SseShape = Emulator.Speech.SpeechSseShape.Chunk;

        var audio = new List<byte>();
        await foreach (var chunk in _client.StreamAsync(Request()))
            audio.AddRange(chunk.Audio.ToArray());

        audio.Should().Equal(_emulator.Synthesize(Text, Orpheus, "tara"));
    }

    [Fact]
    public async Task The_websocket_connection_decodes_to_the_emulators_pcm_and_a_rate_limit_is_retried()
    {
        _emulator.Options.SpeechFaults.FailNext(429);
        _emulator.Options.SpeechFaults.RetryAfterSeconds = 0;

        await using var connection = await _client.ConnectAsync(Orpheus, "tara");
        var audio = new List<byte>();
        await foreach (var chunk in connection.SynthesizeAsync(Text))
            audio.AddRange(chunk.Audio.ToArray());

        audio.Should().Equal(_emulator.Synthesize(Text, Orpheus, "tara"));
    }

    [Fact]
    public async Task A_failure_part_way_reaches_the_client_as_an_error()
    {
        _emulator.Options.SpeechFaults.FailMidStreamAfterChunks = 1;

        var act = async () =>
        {
            await foreach (var _ in _client.StreamAsync(Request()))
            {
            }
        };

        (await act.Should().ThrowAsync<TogetherApiException>()).Which.Message.Should().Contain("failed");
    }

    [Fact]
    public async Task The_voices_list_reaches_the_client()
    {
        var models = await _client.GetVoicesAsync();

        models.Single(m => m.Model == Orpheus).Voices.Select(v => v.Id).Should().Contain("tara");
    }
}
