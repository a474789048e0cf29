using System.Net;
using FluentAssertions;
using Microsoft.Extensions.AI;
using VoicePipeline.Frames;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Emulator;
using VoicePipeline.Together.Emulator.Speech;
using VoicePipeline.Together.Speech;
using Xunit;

namespace VoicePipeline.Together.Tests.Speech;

#pragma warning disable MEAI001 // The experimental text-to-speech abstraction is what is under test.

/// <summary><see cref="TogetherSpeechClient"/> and <see cref="TogetherTextToSpeechClient"/> against the emulator.</summary>
public sealed class TogetherSpeechClientTests : IAsyncDisposable
{
    private const string Key = "sk-speech-client-31c7";
    private TogetherEmulator? _emulator;

    private async Task<(TogetherEmulator Emulator, TogetherSpeechClient Client)> StartAsync(Action<TogetherEmulatorOptions>? configure = null)
    {
        var options = new TogetherEmulatorOptions { ApiKey = Key };
        configure?.Invoke(options);
        _emulator = await TogetherEmulator.StartAsync(options);
        return (_emulator, new TogetherSpeechClient(new TogetherClientOptions { ApiKey = Key, BaseUrl = _emulator.BaseUrl, RetryBaseDelay = TimeSpan.FromMilliseconds(10) }));
    }

    private static SpeechRequest Request(string text, string voice = "af_bella") => new() { Input = text, Model = TogetherTtsOptions.DefaultModel, Voice = voice };

    [Fact]
    public async Task Lists_models_and_their_voices()
    {
        var (_, client) = await StartAsync();
        using var _ = client;

        var models = await client.GetVoicesAsync();

        models.Select(m => m.Model).Should().Contain(["hexgrad/Kokoro-82M", "canopylabs/orpheus-3b-0.1-ft"]);
        models.Single(m => m.Model == "canopylabs/orpheus-3b-0.1-ft").Voices.Select(v => v.Id).Should().Contain(["tara", "leah", "leo", "dan", "mia", "zac"]);
        models.Single(m => m.Model == "hexgrad/Kokoro-82M").Voices.Select(v => v.Id).Should().Contain(["af_heart", "am_adam"]);
    }

    [Theory]
    [InlineData(SpeechSseShape.Delta)]
    [InlineData(SpeechSseShape.Chunk)]
    public async Task Both_sse_event_shapes_give_the_same_audio(SpeechSseShape shape)
    {
        var (emulator, client) = await StartAsync(o => o.SpeechFaults.SseShape = shape);
        using var _ = client;

        var audio = new List<byte>();
        var words = new List<SpeechWord>();
        await foreach (var chunk in client.StreamAsync(Request("Two shapes, one sound."), TogetherTtsMode.Sse))
        {
            audio.AddRange(chunk.Audio.ToArray());
            words.AddRange(chunk.Words ?? []);
        }

        audio.Should().Equal(emulator.Synthesize("Two shapes, one sound.", TogetherTtsOptions.DefaultModel, "af_bella"));
        words.Select(w => w.Text.Trim(',', '.')).Should().Equal("Two", "shapes", "one", "sound");
    }

    [Fact]
    public async Task An_unknown_voice_is_a_permanent_error_with_the_servers_message()
    {
        var (_, client) = await StartAsync();
        using var _ = client;

        var failure = await FluentActions.Awaiting(() => client.SynthesizeAsync(Request("Hi.", voice: "no_such_voice"))).Should().ThrowAsync<TogetherApiException>();

        failure.Which.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        failure.Which.IsPermanent.Should().BeTrue();
        failure.Which.Message.Should().Contain("no_such_voice");
    }

    [Fact]
    public async Task A_stream_cut_before_done_is_an_error_not_a_short_utterance()
    {
        var (_, client) = await StartAsync(o => o.SpeechFaults.FailMidStreamAfterChunks = 1);
        using var _ = client;

        var chunks = 0;
        var failure = await FluentActions.Awaiting(async () =>
        {
            await foreach (var chunk in client.StreamAsync(Request("This stream will be cut short by the server."), TogetherTtsMode.Sse))
                chunks++;
        }).Should().ThrowAsync<TogetherApiException>();
        failure.Which.Category.Should().Be(ErrorCategory.Server);
        chunks.Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task Microsoft_extensions_ai_client_returns_wav_and_streams_pcm()
    {
        var (emulator, client) = await StartAsync();
        using var _ = client;
        using ITextToSpeechClient tts = new TogetherTextToSpeechClient(client);
        var options = new TextToSpeechOptions { VoiceId = "am_echo" };
        var expected = emulator.Synthesize("Through the abstraction.", TogetherTtsOptions.DefaultModel, "am_echo");

        var response = await tts.GetAudioAsync("Through the abstraction.", options);
        var wav = response.Contents.OfType<DataContent>().Should().ContainSingle().Subject;
        wav.MediaType.Should().Be("audio/wav");
        using (var reader = new VoicePipeline.Audio.WavReader(new MemoryStream(wav.Data.ToArray())))
        {
            reader.Format.SampleRate.Should().Be(24_000);
            var samples = new short[reader.DataLength / 2];
            for (var read = 0; read < samples.Length;)
                read += reader.Read(samples.AsSpan(read)) is > 0 and var n ? n : throw new EndOfStreamException();
            VoicePipeline.Audio.Pcm.AsBytes(samples).ToArray().Should().Equal(expected);
        }

        var streamed = new List<byte>();
        await foreach (var update in tts.GetStreamingAudioAsync("Through the abstraction.", options))
            streamed.AddRange(update.Contents.OfType<DataContent>().SelectMany(d => d.Data.ToArray()));
        streamed.Should().Equal(expected);
        tts.GetService<TogetherSpeechClient>().Should().BeSameAs(client);
    }

    public async ValueTask DisposeAsync()
    {
        if (_emulator is not null)
            await _emulator.DisposeAsync();
    }
}
