using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using VoicePipeline.Audio;
using VoicePipeline.Frames;
using VoicePipeline.Testing;
using VoicePipeline.Tests.Shared;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Emulator;
using VoicePipeline.Together.Speech;
using VoicePipeline.Together.Transcriptions;

namespace VoicePipeline.Services.Tests;

/// <summary>The generic services over Microsoft.Extensions.AI's speech interfaces.</summary>
public sealed class SpeechClientServiceTests
{
    private static HarnessOptions Harness() => new() { AudioInSampleRate = 16_000, AudioOutSampleRate = 24_000, EnableMetrics = true, EnableUsageMetrics = true, Timeout = TimeSpan.FromSeconds(60) };

    private static async Task SendAudioAsync(FrameProcessorHarness harness, short[] samples)
    {
        for (var i = 0; i < samples.Length; i += 320)
            await harness.SendAsync(new InputAudioRawFrame(TestAudio.ToBytes(samples.AsSpan(i, Math.Min(320, samples.Length - i))), 16_000));
    }

    [Fact]
    public async Task Each_vad_segment_with_its_preroll_is_one_request_and_one_final_transcript()
    {
        var client = new RecordingSpeechToTextClient();
        var stt = new SegmentedSttService(client, new SttSettings { Model = "whisper", Language = "en", Prompt = "names" });
        await using var harness = await FrameProcessorHarness.StartAsync(stt, Harness());
        await SendAudioAsync(harness, Enumerable.Repeat((short)5, 32_000).ToArray()); // 2 s before speech: only the pre-roll is kept
        await harness.SendAsync(new UserStartedSpeakingFrame { Timestamp = TimeSpan.FromSeconds(2.2), StartSecs = 0.2 });
        await SendAudioAsync(harness, Enumerable.Repeat((short)900, 8000).ToArray());
        await harness.SendAsync(new UserStoppedSpeakingFrame { Timestamp = TimeSpan.FromSeconds(2.7), StopSecs = 0.2 });
        var first = await harness.WaitForDownstreamAsync<TranscriptionFrame>();
        await harness.SendAsync(new UserStartedSpeakingFrame());
        await SendAudioAsync(harness, Enumerable.Repeat((short)-900, 3200).ToArray());
        await harness.EndAsync(); // the segment in progress is transcribed at the end

        first.Text.Should().Be("segment 1");
        first.Finalized.Should().BeTrue();
        first.AudioStart.Should().Be(TimeSpan.FromSeconds(2));
        first.AudioEnd.Should().Be(TimeSpan.FromSeconds(2.5));
        harness.Downstream.OfType<TranscriptionFrame>().Select(t => t.Text).Should().Equal("segment 1", "segment 2");
        client.Requests.Should().HaveCount(2);
        var (audio, rate) = client.Requests[0].Audio;
        rate.Should().Be(16_000);
        audio.Should().Equal(Enumerable.Repeat((short)5, 8000).Concat(Enumerable.Repeat((short)900, 8000)), "0.5 s of pre-roll, then the speech");
        client.Requests[0].Options.ModelId.Should().Be("whisper");
        client.Requests[0].Options.SpeechLanguage.Should().Be("en");
        client.Requests[0].Options.AdditionalProperties!["prompt"].Should().Be("names");
        client.Requests[1].Audio.Samples.Should().EndWith(Enumerable.Repeat((short)-900, 3200));
        harness.Downstream.OfType<MetricsFrame>().SelectMany(m => m.Data).OfType<Metrics.TtfsMetricsData>().Should().HaveCount(2);
    }

    [Fact]
    public async Task Behind_a_switcher_a_settings_update_from_downstream_reaches_every_service()
    {
        var client = new RecordingSpeechToTextClient();
        var segmented = new SegmentedSttService(client, new SttSettings { Language = "en" }, name: "segmented");
        var realtime = new FakeRealtimeStt(new SttSettings { Language = "en" }, name: "realtime");
        var stt = new ServiceSwitcher(realtime, segmented);
        await using var harness = await FrameProcessorHarness.StartAsync(stt, Harness());
        await harness.SendAsync(new SwitchServiceFrame(segmented), FrameDirection.Upstream);
        await harness.SendAsync(new SttUpdateSettingsFrame { Language = "fr" }, FrameDirection.Upstream);
        await harness.WaitForUpstreamAsync<SttUpdateSettingsFrame>();
        await harness.SendAsync(new UserStartedSpeakingFrame());
        await SendAudioAsync(harness, Enumerable.Repeat((short)900, 3200).ToArray());
        await harness.SendAsync(new UserStoppedSpeakingFrame());
        var final = await harness.WaitForDownstreamAsync<TranscriptionFrame>();
        await harness.EndAsync();

        final.Language.Should().Be("fr");
        client.Requests.Single().Options.SpeechLanguage.Should().Be("fr");
        realtime.Settings.Language.Should().Be("fr", "the inactive service got the update too");
    }

    [Fact]
    public async Task Segmented_stt_over_the_together_batch_client_transcribes_real_speech()
    {
        await using var emulator = await TogetherEmulator.StartAsync();
        using var transcription = new TogetherTranscriptionClient(new TogetherClientOptions { ApiKey = "test", BaseUrl = emulator.BaseUrl });
        var stt = new SegmentedSttService(new TogetherSpeechToTextClient(transcription), new SttSettings { Language = "en" });
        // A LibriVox recording from pocketsphinx-testdata: "he was not an ill disposed young man".
        var recording = TestAudio.Decode(Directory.GetFiles(TestAudio.LibriVoxDirectory, "*.wav").Order().ElementAt(1), 16_000);
        await using var harness = await FrameProcessorHarness.StartAsync(stt, Harness());
        await SendAudioAsync(harness, TestAudio.Silence(0.5));
        await harness.SendAsync(new UserStartedSpeakingFrame());
        await SendAudioAsync(harness, recording);
        await harness.SendAsync(new UserStoppedSpeakingFrame());
        var final = await harness.WaitForDownstreamAsync<TranscriptionFrame>(timeout: TimeSpan.FromSeconds(60));
        await harness.EndAsync();

        WordErrorRate.Compute("he was not an ill disposed young man", final.Text).Should().BeLessThan(0.5, $"heard \"{final.Text}\"");
        emulator.TranscriptionRequests.Should().ContainSingle().Which.Fields["language"].Should().Be("en");
    }

    [Fact]
    public async Task Tts_over_the_together_speech_client_is_bit_exact_and_takes_settings_updates()
    {
        await using var emulator = await TogetherEmulator.StartAsync();
        using var speech = new TogetherSpeechClient(new TogetherClientOptions { ApiKey = "test", BaseUrl = emulator.BaseUrl });
        var tts = new TextToSpeechClientTtsService(new TogetherTextToSpeechClient(speech), new TtsSettings { Voice = TogetherTtsOptions.DefaultVoice });
        await using var harness = await FrameProcessorHarness.StartAsync(tts, Harness());
        await harness.SendAsync(new TtsSpeakFrame("Any provider plugs in."));
        await harness.SendAsync(new TtsUpdateSettingsFrame { Voice = "am_adam" });
        await harness.SendAsync(new TtsSpeakFrame("Any provider plugs in."));
        await harness.WaitForDownstreamAsync<TtsStoppedFrame>(_ => harness.Downstream.OfType<TtsStoppedFrame>().Count() == 2, TimeSpan.FromSeconds(60));
        await harness.EndAsync();

        var contexts = harness.Downstream.OfType<TtsAudioRawFrame>().Select(f => f.ContextId).Distinct().ToList();
        contexts.Should().HaveCount(2);
        AudioBytes(harness.Downstream, contexts[0]).Should().Equal(emulator.Synthesize("Any provider plugs in.", TogetherTtsOptions.DefaultModel, TogetherTtsOptions.DefaultVoice));
        AudioBytes(harness.Downstream, contexts[1]).Should().Equal(emulator.Synthesize("Any provider plugs in.", TogetherTtsOptions.DefaultModel, "am_adam"));
        emulator.SpeechRequests.Select(r => r.Voice).Should().Equal(TogetherTtsOptions.DefaultVoice, "am_adam");
    }

    private static byte[] AudioBytes(IEnumerable<Frame> frames, string? context)
        => frames.OfType<TtsAudioRawFrame>().Where(f => f.ContextId == context).SelectMany(f => f.Audio.ToArray()).ToArray();

    /// <summary>Answers "segment N" and keeps every WAV it was sent.</summary>
    private sealed class RecordingSpeechToTextClient : ISpeechToTextClient
    {
        public List<((short[] Samples, int Rate) Audio, SpeechToTextOptions Options)> Requests { get; } = [];

        public async Task<SpeechToTextResponse> GetTextAsync(Stream audioSpeechStream, SpeechToTextOptions? options = null, CancellationToken cancellationToken = default)
        {
            var path = TestAudio.TempPath(".wav");
            await using (var file = File.Create(path))
                await audioSpeechStream.CopyToAsync(file, cancellationToken);
            using var reader = WavReader.Open(path);
            var samples = new short[reader.DataLength / 2];
            var read = 0;
            while (read < samples.Length && reader.Read(samples.AsSpan(read)) is > 0 and var n)
                read += n;
            Requests.Add(((samples[..read], reader.Format.SampleRate), options!));
            return new SpeechToTextResponse($"segment {Requests.Count}");
        }

        public async IAsyncEnumerable<SpeechToTextResponseUpdate> GetStreamingTextAsync(Stream audioSpeechStream, SpeechToTextOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var response = await GetTextAsync(audioSpeechStream, options, cancellationToken);
            yield return new SpeechToTextResponseUpdate(response.Text);
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
