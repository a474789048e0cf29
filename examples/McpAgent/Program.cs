// A voice agent whose LLM may call the tools of an MCP server (stdio): the user's turns come from a recording (or a
// typed sentence), the user aggregator runs the LLM once per turn, the LLM calls the MCP tools it needs, speaks the
// answer through Together's TTS into mcp-agent-reply.wav, and the conversation (calls and results included) is printed.
// Offline, the emulator's assistant calls a tool the user names ("add 2 and 40") and answers from its result.
// dotnet run --project examples/McpAgent [--say "add 2 and 40"] [--mcp "COMMAND ARGS..."] [file]
using Microsoft.Extensions.AI;
using VoicePipeline.AI;
using VoicePipeline.Audio.Transports;
using VoicePipeline.Examples;
using VoicePipeline.Frames;
using VoicePipeline.Pipelines;
using VoicePipeline.Together.Chat;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Realtime;
using VoicePipeline.Together.Speech;
using VoicePipeline.Vad;
using VoicePipeline.Vad.Silero;

string? say = null, mcpCommand = null, file = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--say" when i + 1 < args.Length: say = args[++i]; break;
        case "--mcp" when i + 1 < args.Length: mcpCommand = args[++i]; break;
        default: file = args[i]; break;
    }
}
// The project's small test server (add, get_weather, broken) unless another MCP server is named.
mcpCommand ??= $"dotnet \"{Path.Combine(AppContext.BaseDirectory.Replace("examples/McpAgent", "tests/VoicePipeline.McpTestServer", StringComparison.Ordinal), "VoicePipeline.McpTestServer.dll")}\"";

var (baseUrl, apiKey, emulator) = await ExampleSupport.ConnectAsync();
await using var _ = emulator;
using var chat = TogetherChat.CreateChatClient(new TogetherClientOptions { ApiKey = apiKey, BaseUrl = baseUrl });
await using var mcp = await McpTools.ConnectCommandLineAsync(mcpCommand);
Console.Error.WriteLine($"MCP tools: {string.Join(", ", mcp.Tools.Select(t => t.Name))}");

var context = new LlmContext("You are a helpful, brief voice assistant. Use the tools when they help.", tools: mcp.Tools);
var conversation = context.CreateAggregators();
conversation.User.TurnEnded += (_, turn) => Console.WriteLine($"user: {turn.Text}");
conversation.Assistant.TurnEnded += (_, reply) => Console.WriteLine($"bot: {reply.Text}{(reply.Interrupted ? " (interrupted)" : "")}");
var reply = "mcp-agent-reply.wav";

var llm = new ChatClientLlmService(chat);
var tts = new TogetherTtsService(new TogetherTtsOptions { ApiKey = apiKey, BaseUrl = baseUrl, Voice = "af_heart" });
var pipeline = say is null
    ? new Pipeline(
        new FileTransportInput(ExampleSupport.SampleOr(file is null ? [] : [file]), new FileTransportInputOptions { RealTime = false }),
        new VadProcessor(new SileroVadAnalyzer(), new VadParams { StopSecs = 0.8 }),
        new TogetherSttService(new TogetherSttOptions { ApiKey = apiKey, BaseUrl = baseUrl }),
        conversation.User, llm, tts, new WavFileOutput(reply), conversation.Assistant)
    : new Pipeline(conversation.User, llm, tts, new WavFileOutput(reply), conversation.Assistant); // a typed turn, no recording

var task = new PipelineTask(pipeline, new PipelineTaskOptions { AudioInSampleRate = 16_000, AudioOutSampleRate = 24_000 });
task.ErrorReceived += (_, e) => Console.Error.WriteLine($"error: {e.Message}");
if (say is not null)
{
    // A text-only turn: the end makes the user aggregator answer it at once, and the end waits for the answer.
    await task.QueueFrameAsync(new TranscriptionFrame(say, "user", DateTimeOffset.UtcNow, "en", finalized: true));
    await task.QueueFrameAsync(new EndFrame());
}
await new PipelineRunner().RunAsync(task);

Console.WriteLine("conversation:");
foreach (var message in context.Messages)
{
    var text = string.Join(" ", message.Contents.Select(c => c switch
    {
        FunctionCallContent call => $"[call {call.Name}({string.Join(", ", call.Arguments?.Select(a => $"{a.Key}={a.Value}") ?? [])})]",
        FunctionResultContent result => $"[result {result.Result}]",
        _ => c.ToString(),
    }));
    Console.WriteLine($"  {message.Role}: {text}");
}
Console.Error.WriteLine($"The agent's spoken answers are in {reply}.");
