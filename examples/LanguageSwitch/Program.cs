// Switches the transcription language while the stream runs: after the first final transcript, an
// SttUpdateSettingsFrame asks for French (and a prompt). The service sends it live, without reconnecting;
// a model change would wait for the end of the current turn and then reconnect.
// dotnet run --project examples/LanguageSwitch [file]
using VoicePipeline.Audio.Transports;
using VoicePipeline.Examples;
using VoicePipeline.Frames;
using VoicePipeline.Pipelines;
using VoicePipeline.Processors;
using VoicePipeline.Vad;

await using var services = await ExampleSupport.StartAsync(); // the key (or the offline emulator), set once

var stt = services.Together.CreateSttService(o => o.Language = "en");
var pipeline = new Pipeline(
    // Real time, as from a microphone: the switch lands between turns (fast mode would queue every turn first).
    new FileTransportInput(ExampleSupport.SampleOr(args)),
    services.Vad.CreateProcessor(new VadParams { StopSecs = 0.8 }),
    stt,
    new SwitchAfterFirstFinal(),
    new ConsoleSink());

var task = services.Tasks.Create(pipeline, o => o.AudioInSampleRate = 16_000);
task.ErrorReceived += (_, e) => Console.Error.WriteLine($"error: {e.Message}");
await services.Tasks.CreateRunner().RunAsync(task);
Console.WriteLine($"Language at the end: {stt.Language}");

/// <summary>After the first final transcript, sends a settings update upstream to the STT service.</summary>
internal sealed class SwitchAfterFirstFinal : FrameProcessor
{
    private bool _switched;

    protected override async ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        await PushFrameAsync(frame, direction, cancellationToken);
        if (frame is TranscriptionFrame && !_switched)
        {
            _switched = true;
            Console.WriteLine("-- switching to French --");
            // Pushed upstream, it reaches the STT service before this processor: services apply settings from either direction.
            await PushFrameAsync(new SttUpdateSettingsFrame { Language = "fr", Prompt = "Transcription en français." }, FrameDirection.Upstream, cancellationToken);
        }
    }
}
