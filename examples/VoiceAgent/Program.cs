// A whole voice agent on a recording: the user's turns are transcribed, answered by an LLM through
// Microsoft.Extensions.AI, and the answers spoken by Together's text-to-speech (WebSocket) into agent-reply.wav.
// Offline, the emulator answers with its echo assistant and speaks with espeak-ng.
// dotnet run --project examples/VoiceAgent [file] [reply.wav]
using VoicePipeline.AI;
using VoicePipeline.Audio.Transports;
using VoicePipeline.Examples;
using VoicePipeline.Pipelines;
using VoicePipeline.Vad;

await using var services = await ExampleSupport.StartAsync(); // the key (or the offline emulator), set once
var reply = args.Length > 1 ? args[1] : "agent-reply.wav";

var pipeline = new Pipeline(
    new FileTransportInput(ExampleSupport.SampleOr(args), new FileTransportInputOptions { RealTime = false }),
    services.Vad.CreateProcessor(new VadParams { StopSecs = 0.8 }),
    services.Together.CreateSttService(),
    new ChatClientLlmService(services.Chat, new ChatClientLlmServiceOptions { SystemPrompt = "You are a helpful, brief voice assistant." }),
    services.Together.CreateTtsService(o => o.Voice = "af_heart"),
    new ConsoleSink(),
    new WavFileOutput(reply));

var task = services.Tasks.Create(pipeline, o => { o.AudioInSampleRate = 16_000; o.AudioOutSampleRate = 24_000; });
task.ErrorReceived += (_, e) => Console.Error.WriteLine($"error: {e.Message}");
await services.Tasks.CreateRunner().RunAsync(task);
Console.Error.WriteLine($"The agent's spoken answers are in {reply}.");
