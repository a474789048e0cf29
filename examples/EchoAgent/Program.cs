// A voice agent without the voice out: each final transcript goes to an LLM through Microsoft.Extensions.AI's
// IChatClient (Together's OpenAI-compatible endpoint; offline, the emulator's echo assistant), whose streamed answer
// is printed. dotnet run --project examples/EchoAgent [file]
using VoicePipeline.AI;
using VoicePipeline.Audio.Transports;
using VoicePipeline.Examples;
using VoicePipeline.Pipelines;
using VoicePipeline.Vad;

await using var services = await ExampleSupport.StartAsync(); // the key (or the offline emulator), set once

var pipeline = new Pipeline(
    new FileTransportInput(ExampleSupport.SampleOr(args), new FileTransportInputOptions { RealTime = false }),
    services.Vad.CreateProcessor(new VadParams { StopSecs = 0.8 }),
    services.Together.CreateSttService(),
    new ChatClientLlmService(services.Chat, new ChatClientLlmServiceOptions { SystemPrompt = "You are a helpful, brief voice assistant." }),
    new ConsoleSink());

await services.Tasks.CreateRunner().RunAsync(services.Tasks.Create(pipeline, o => o.AudioInSampleRate = 16_000));
