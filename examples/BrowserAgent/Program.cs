// A voice agent in the browser: open the printed address, press Start and talk. Each connection gets its own pipeline
// (microphone -> VAD -> STT -> user aggregator -> LLM -> TTS -> speaker -> assistant aggregator); the VADs of all connections share one batcher. Offline, the
// emulator transcribes with PocketSphinx, answers with its echo assistant and speaks with espeak-ng.
// dotnet run --project examples/BrowserAgent [port]
using VoicePipeline.AI;
using VoicePipeline.Examples;
using VoicePipeline.Pipelines;
using VoicePipeline.Transports.WebSockets;
using VoicePipeline.Vad;

// The key (or the offline emulator) set once; the VADs of all sessions share one batcher.
await using var services = await ExampleSupport.StartAsync(batchedVad: true);
var options = new WebSocketServerOptions { Port = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 8765 };

await using var server = await VoiceWebSocketServer.StartAsync(async session =>
{
    // One conversation per connection: the user aggregator makes turns (and barges in: InterruptOnSpeech is on by
    // default), the assistant aggregator after the output records what the user heard.
    var conversation = new LlmContext("You are a helpful, brief voice assistant.").CreateAggregators();
    var pipeline = new Pipeline(
        session.Input,
        new VadProcessor(services.Vad.CreateAnalyzer(), new VadParams { StopSecs = 0.5 }),
        services.Together.CreateSttService(),
        conversation.User,
        new ChatClientLlmService(services.Chat),
        services.Together.CreateTtsService(o => o.Voice = "af_heart"),
        session.Output,
        conversation.Assistant);
    await using var task = services.Tasks.Create(pipeline, o => { o.AudioInSampleRate = 16_000; o.AudioOutSampleRate = 24_000; });
    await task.RunAsync(session.Stopping);
}, options);

Console.WriteLine($"Open {server.BaseUrl} in a browser (Ctrl+C stops).");
var stop = new TaskCompletionSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
await stop.Task;
