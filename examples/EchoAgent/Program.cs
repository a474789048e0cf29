// A voice agent without the voice out: each final transcript goes to an LLM through Microsoft.Extensions.AI's
// IChatClient (Together's OpenAI-compatible endpoint; offline, the emulator's echo assistant), whose streamed answer
// is printed. dotnet run --project examples/EchoAgent [file]
using VoicePipeline.AI;
using VoicePipeline.Audio.Transports;
using VoicePipeline.Examples;
using VoicePipeline.Pipelines;
using VoicePipeline.Together.Chat;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Realtime;
using VoicePipeline.Vad;
using VoicePipeline.Vad.Silero;

var (baseUrl, apiKey, emulator) = await ExampleSupport.ConnectAsync();
await using var _ = emulator;
using var chat = TogetherChat.CreateChatClient(new TogetherClientOptions { ApiKey = apiKey, BaseUrl = baseUrl });

var pipeline = new Pipeline(
    new FileTransportInput(ExampleSupport.SampleOr(args), new FileTransportInputOptions { RealTime = false }),
    new VadProcessor(new SileroVadAnalyzer(), new VadParams { StopSecs = 0.8 }),
    new TogetherSttService(new TogetherSttOptions { ApiKey = apiKey, BaseUrl = baseUrl }),
    new ChatClientLlmService(chat, new ChatClientLlmServiceOptions { SystemPrompt = "You are a helpful, brief voice assistant." }),
    new ConsoleSink());

await new PipelineRunner().RunAsync(new PipelineTask(pipeline, new PipelineTaskOptions { AudioInSampleRate = 16_000 }));
