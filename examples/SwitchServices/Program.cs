// Changes services while a conversation runs: each final transcript is spoken back ("You said ..."), and as the
// turns go by a director processor
//   turn 1: switches speech-to-text from Together's realtime WebSocket to a segmented STT over any
//           Microsoft.Extensions.AI ISpeechToTextClient (here Together's batch endpoint), and changes the realtime
//           service's model (a targeted SttUpdateSettingsFrame: only that service applies it);
//   turn 2: changes the voice of every TTS service (TtsUpdateSettingsFrame, no target) and the STT language;
//   turn 3: switches text-to-speech from Together's WebSocket service to a TTS over any ITextToSpeechClient.
// Offline (no TOGETHER_API_KEY) the embedded emulator answers, recognizing with PocketSphinx and speaking with espeak-ng.
// dotnet run --project examples/SwitchServices [file] [out.wav]
using VoicePipeline.Audio.Transports;
using VoicePipeline.Examples;
using VoicePipeline.Frames;
using VoicePipeline.Pipelines;
using VoicePipeline.Processors;
using VoicePipeline.Services;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Realtime;
using VoicePipeline.Together.Speech;
using VoicePipeline.Together.Transcriptions;
using VoicePipeline.Vad;
using VoicePipeline.Vad.Silero;

var (baseUrl, apiKey, emulator) = await ExampleSupport.ConnectAsync();
await using var _ = emulator;
var output = args.Length > 1 ? args[1] : "switch-services.wav";
var client = new TogetherClientOptions { ApiKey = apiKey, BaseUrl = baseUrl };
using var transcription = new TogetherTranscriptionClient(client);
using var speech = new TogetherSpeechClient(client);

var stt = new ServiceSwitcher(
    new TogetherSttService(new TogetherSttOptions { ApiKey = apiKey, BaseUrl = baseUrl, Language = "en" }, name: "realtime-stt"),
    new SegmentedSttService(new TogetherSpeechToTextClient(transcription), new SttSettings { Language = "en" }, name: "segmented-stt"));
var tts = new ServiceSwitcher(
    new TogetherTtsService(new TogetherTtsOptions { ApiKey = apiKey, BaseUrl = baseUrl, Voice = "af_heart" }, name: "together-tts"),
    new TextToSpeechClientTtsService(new TogetherTextToSpeechClient(speech), new TtsSettings { Voice = "af_heart" }, name: "meai-tts"));

var pipeline = new Pipeline(
    new FileTransportInput(ExampleSupport.SampleOr(args)), // real time, as from a microphone: switches land between turns
    new VadProcessor(new SileroVadAnalyzer(), new VadParams { StopSecs = 0.8 }),
    stt,
    new Director(),
    tts,
    new ConsoleSink(),
    new WavFileOutput(output));

var task = new PipelineTask(pipeline, new PipelineTaskOptions { AudioInSampleRate = 16_000, AudioOutSampleRate = 24_000 });
task.ErrorReceived += (_, e) => Console.Error.WriteLine($"error: {e.Message}");
await new PipelineRunner().RunAsync(task);
foreach (var service in stt.Services.OfType<SttService>().Concat<FrameProcessor>(tts.Services))
    Console.WriteLine($"{service.Name}: {(service is SttService s ? s.Settings.ToString() : ((TtsService)service).Settings.ToString())}");
Console.WriteLine($"STT at the end: {stt.ActiveService.Name}; TTS at the end: {tts.ActiveService.Name}. The spoken replies are in {output}.");

/// <summary>Speaks every final transcript back and changes services and settings as the turns go by.</summary>
internal sealed class Director : FrameProcessor
{
    private int _turns;

    protected override async ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        await PushFrameAsync(frame, direction, cancellationToken);
        if (frame is not TranscriptionFrame { Finalized: true } final || direction != FrameDirection.Downstream)
            return;
        switch (++_turns)
        {
            case 1:
                Console.WriteLine("-- STT: realtime -> segmented; the realtime service's model changes (targeted) --");
                // Pushed upstream, these reach the STT switcher before this processor.
                await PushFrameAsync(new SwitchServiceFrame("segmented-stt"), FrameDirection.Upstream, cancellationToken);
                await PushFrameAsync(new SttUpdateSettingsFrame { Model = "nvidia/parakeet-tdt-0.6b-v3", TargetName = "realtime-stt" }, FrameDirection.Upstream, cancellationToken);
                break;
            case 2:
                Console.WriteLine("-- TTS voice af_heart -> am_adam (every TTS service); STT language en -> fr --");
                await PushFrameAsync(new TtsUpdateSettingsFrame { Voice = "am_adam" }, FrameDirection.Downstream, cancellationToken);
                await PushFrameAsync(new SttUpdateSettingsFrame { Language = "fr" }, FrameDirection.Upstream, cancellationToken);
                break;
            case 3:
                Console.WriteLine("-- TTS: Together WebSocket -> any ITextToSpeechClient --");
                await PushFrameAsync(new SwitchServiceFrame("meai-tts"), FrameDirection.Downstream, cancellationToken);
                break;
        }
        await PushFrameAsync(new TtsSpeakFrame($"You said: {final.Text}"), FrameDirection.Downstream, cancellationToken);
    }
}
