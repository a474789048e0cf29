// A whole voice agent on a recording: the user's turns are transcribed, answered by an LLM through
// Microsoft.Extensions.AI, and the answers spoken by Together's text-to-speech (WebSocket) into agent-reply.wav.
// Offline, the emulator answers with its echo assistant and speaks with espeak-ng.
// dotnet run --project examples/VoiceAgent [file] [reply.wav]
using VoicePipeline.AI;
using VoicePipeline.Audio.Transports;
using VoicePipeline.Examples;
using VoicePipeline.Pipelines;
using VoicePipeline.Together.Chat;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Realtime;
using VoicePipeline.Together.Speech;
using VoicePipeline.Vad;
using VoicePipeline.Vad.Silero;

var (baseUrl, apiKey, emulator) = await ExampleSupport.ConnectAsync();
await using var _ = emulator;
using var chat = TogetherChat.CreateChatClient(new TogetherClientOptions { ApiKey = apiKey, BaseUrl = baseUrl });
var reply = args.Length > 1 ? args[1] : "agent-reply.wav";

var pipeline = new Pipeline(
    new FileTransportInput(ExampleSupport.SampleOr(args), new FileTransportInputOptions { RealTime = false }),
    new VadProcessor(new SileroVadAnalyzer(), new VadParams { StopSecs = 0.8 }),
    new TogetherSttService(new TogetherSttOptions { ApiKey = apiKey, BaseUrl = baseUrl }),
    new ChatClientLlmService(chat, new ChatClientLlmServiceOptions { SystemPrompt = "You are a helpful, brief voice assistant." }),
    new TogetherTtsService(new TogetherTtsOptions { ApiKey = apiKey, BaseUrl = baseUrl, Voice = "af_heart" }),
    new ConsoleSink(),
    new WavFileOutput(reply));

var task = new PipelineTask(pipeline, new PipelineTaskOptions { AudioInSampleRate = 16_000, AudioOutSampleRate = 24_000 });
task.ErrorReceived += (_, e) => Console.Error.WriteLine($"error: {e.Message}");
await new PipelineRunner().RunAsync(task);
Console.Error.WriteLine($"The agent's spoken answers are in {reply}.");
