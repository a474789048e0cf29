// Text to speech: the text on the command line spoken by Together's text-to-speech (WebSocket) into speech.wav, and
// on the speaker too when a PulseAudio server answers. Offline, the emulator speaks with espeak-ng.
// dotnet run --project examples/SpeakText ["text"] [speech.wav]
using VoicePipeline.Audio.Transports;
using VoicePipeline.Examples;
using VoicePipeline.Frames;
using VoicePipeline.Pipelines;
using VoicePipeline.Processors;

await using var services = await ExampleSupport.StartAsync(); // the key (or the offline emulator), set once
var text = args.Length > 0 ? args[0] : "Hello! This is VoicePipeline, speaking through Together's text to speech.";
var output = args.Length > 1 ? args[1] : "speech.wav";

List<FrameProcessor> processors =
[
    services.Together.CreateTtsService(o => o.Voice = "af_heart"),
    new WavFileOutput(output),
];
var speaker = new PulseAudioOptions();
if (await speaker.ServerAnswersAsync())
    processors.Add(new PulseAudioOutput(speaker));
else
    Console.Error.WriteLine("No PulseAudio server answers: writing the file only.");

var task = services.Tasks.Create(new Pipeline(processors), o => o.AudioOutSampleRate = 24_000);
task.ErrorReceived += (_, e) => Console.Error.WriteLine($"error: {e.Message}");
await task.QueueFramesAsync([new TtsSpeakFrame(text), new EndFrame()]);
await services.Tasks.CreateRunner().RunAsync(task);
Console.Error.WriteLine($"Spoken into {output}.");
