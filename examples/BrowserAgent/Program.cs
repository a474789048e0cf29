// A voice agent in the browser: open the printed address, press Start and talk. Each connection gets its own pipeline
// (microphone -> VAD -> STT -> user aggregator -> LLM -> TTS -> speaker -> assistant aggregator); the VADs of all connections share one batcher. Offline, the
// emulator transcribes with PocketSphinx, answers with its echo assistant and speaks with espeak-ng.
// dotnet run --project examples/BrowserAgent [port]
using VoicePipeline.AI;
using VoicePipeline.Examples;
using VoicePipeline.Pipelines;
using VoicePipeline.Together.Chat;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Realtime;
using VoicePipeline.Together.Speech;
using VoicePipeline.Transports.WebSockets;
using VoicePipeline.Vad;
using VoicePipeline.Vad.Silero;

var (baseUrl, apiKey, emulator) = await ExampleSupport.ConnectAsync();
await using var _ = emulator;
using var chat = TogetherChat.CreateChatClient(new TogetherClientOptions { ApiKey = apiKey, BaseUrl = baseUrl });
using var vadBatcher = new SileroVadBatcher();
var options = new WebSocketServerOptions { Port = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 8765 };

await using var server = await VoiceWebSocketServer.StartAsync(async session =>
{
    // One conversation per connection: the user aggregator makes turns (and barges in: InterruptOnSpeech is on by
    // default), the assistant aggregator after the output records what the user heard.
    var conversation = new LlmContext("You are a helpful, brief voice assistant.").CreateAggregators();
    var pipeline = new Pipeline(
        session.Input,
        new VadProcessor(new SileroVadAnalyzer(batcher: vadBatcher), new VadParams { StopSecs = 0.5 }),
        new TogetherSttService(new TogetherSttOptions { ApiKey = apiKey, BaseUrl = baseUrl }),
        conversation.User,
        new ChatClientLlmService(chat),
        new TogetherTtsService(new TogetherTtsOptions { ApiKey = apiKey, BaseUrl = baseUrl, Voice = "af_heart" }),
        session.Output,
        conversation.Assistant);
    await using var task = new PipelineTask(pipeline, new PipelineTaskOptions { AudioInSampleRate = 16_000, AudioOutSampleRate = 24_000 });
    await task.RunAsync(session.Stopping);
}, options);

Console.WriteLine($"Open {server.BaseUrl} in a browser (Ctrl+C stops).");
var stop = new TaskCompletionSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
await stop.Task;
