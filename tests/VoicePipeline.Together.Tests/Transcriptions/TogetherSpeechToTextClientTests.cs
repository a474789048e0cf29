using Microsoft.Extensions.AI;
using VoicePipeline.Tests.Shared;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Emulator;
using VoicePipeline.Together.Emulator.Recognition;
using VoicePipeline.Together.Transcriptions;

namespace VoicePipeline.Together.Tests.Transcriptions;

#pragma warning disable MEAI001 // testing the experimental interface on purpose

public class TogetherSpeechToTextClientTests
{
    [Fact]
    public async Task Transcribes_a_stream_through_the_microsoft_extensions_ai_interface()
    {
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { Recognizer = new ScriptedRecognizerFactory("hello abstraction") });
        using var transcription = new TogetherTranscriptionClient(new TogetherClientOptions { ApiKey = "k", BaseUrl = emulator.BaseUrl });
        ISpeechToTextClient client = new TogetherSpeechToTextClient(transcription, "some/model");
        var wav = TestAudio.WriteWav(TestAudio.TempPath(".wav"), TestAudio.Concat(TestAudio.Silence(0.3), TestAudio.Speak("Hello there.", 16000)), 16000);
        await using var stream = File.OpenRead(wav);

        var response = await client.GetTextAsync(stream, new SpeechToTextOptions { SpeechLanguage = "en" });

        response.Text.Should().Be("hello abstraction");
        response.ModelId.Should().Be("some/model");
        response.StartTime.Should().BeGreaterThan(TimeSpan.Zero);
        emulator.TranscriptionRequests.Single().Fields["language"].Should().Be("en");
        client.GetService(typeof(TogetherTranscriptionClient)).Should().BeSameAs(transcription);
    }
}
