using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.AI;
using VoicePipeline.AI;
using VoicePipeline.Audio;
using VoicePipeline.Audio.Transports;
using VoicePipeline.Cli.Infrastructure;
using VoicePipeline.Frames;
using VoicePipeline.Pipelines;
using VoicePipeline.Processors;
using VoicePipeline.Together.Chat;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Realtime;
using VoicePipeline.Together.Speech;
using VoicePipeline.Transports;
using VoicePipeline.Vad;
using VoicePipeline.Vad.Silero;

namespace VoicePipeline.Cli.Commands;

/// <summary>
/// <c>vp agent FILE</c>: the whole voice agent on a file (file -> VAD -> STT -> user aggregator -> LLM -> TTS -> output
/// -> assistant aggregator), printing the conversation as it happens.
/// </summary>
internal static class AgentCommand
{
    /// <summary>How long a fast run waits for a turn's final transcript after the user stopped (the input waits meanwhile).</summary>
    private static readonly TimeSpan FastTranscriptTimeout = TimeSpan.FromSeconds(15);

    public static Command Create()
    {
        var file = new Argument<string>("input") { Description = "The user's side of the conversation: an audio file (wav, mp3, m4a, webm, flac, ogg, ...)." };
        var json = new Option<bool>("--json") { Description = "One JSON object per line: user, bot, function_call, function_result events, then the final context." };
        var fast = new Option<bool>("--fast") { Description = "Run as fast as possible instead of in real time." };
        var output = new Option<string?>("--output", "-o") { Description = "Write the bot's speech to this WAV file, on the input's timeline." };
        var systemPrompt = new Option<string>("--system-prompt") { Description = "The system prompt.", DefaultValueFactory = _ => "You are a helpful, brief voice assistant." };
        var llmModel = new Option<string>("--llm-model") { Description = "The chat model.", DefaultValueFactory = _ => TogetherChat.DefaultModel };
        var llmBaseUrl = new Option<string?>("--llm-base-url") { Description = "An OpenAI-compatible chat endpoint (default: Together's, or the emulator's offline)." };
        var llmApiKey = new Option<string?>("--llm-api-key") { Description = "The key of the chat endpoint (default: the Together key)." };
        var voice = new Option<string>("--voice") { Description = "The TTS voice.", DefaultValueFactory = _ => TogetherTtsOptions.DefaultVoice };
        var stopSecs = new Option<double>("--stop-secs") { Description = "Seconds of silence that end a user turn.", DefaultValueFactory = _ => 0.8 };
        var mcp = new Option<string[]>("--mcp") { Description = "\"COMMAND ARGS...\": an MCP server over stdio whose tools the agent may call (repeatable).", AllowMultipleArgumentsPerToken = false };
        var baseUrl = new Option<string?>("--base-url") { Description = "The Together API base URL (or a compatible server) for STT and TTS." };
        var apiKey = new Option<string?>("--api-key") { Description = "The API key (default: TOGETHER_API_KEY). Without one, the embedded emulator runs offline." };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log progress to stderr." };
        var command = new Command("agent", "Run a voice agent on a file: file -> VAD -> STT -> LLM (tools, MCP) -> TTS, printing the conversation.")
        {
            file, json, fast, output, systemPrompt, llmModel, llmBaseUrl, llmApiKey, voice, stopSecs, mcp, baseUrl, apiKey, verbose,
        };
        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async () =>
        {
            var path = result.GetValue(file)!;
            await AudioFile.ProbeAsync(path, cancellationToken).ConfigureAwait(false);
            var vadParams = new VadParams { StopSecs = result.GetValue(stopSecs) }.Validate();
            var llmUrl = result.GetValue(llmBaseUrl);
            if (llmUrl is not null && !Uri.TryCreate(llmUrl, UriKind.Absolute, out _))
                throw new ArgumentException($"--llm-base-url: '{llmUrl}' is not an absolute URL");
            var outputPath = result.GetValue(output);
            if (outputPath is not null && !outputPath.EndsWith(".wav", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"-o: '{outputPath}' is not a .wav file");
            if (outputPath is not null)
                outputPath = SafeOutputFile.Check(outputPath, "-o");
            var realTime = !result.GetValue(fast);

            await using var endpoint = await TogetherEndpoint.ResolveAsync(result.GetValue(apiKey), result.GetValue(baseUrl), cancellationToken: cancellationToken).ConfigureAwait(false);
            using var logging = CliLogging.Create(result.GetValue(verbose));
            var llmKey = result.GetValue(llmApiKey) is { Length: > 0 } key ? key : endpoint.ApiKey;
            using var chat = TogetherChat.CreateChatClient(
                new TogetherClientOptions { ApiKey = llmKey, BaseUrl = llmUrl is null ? endpoint.BaseUrl : new Uri(llmUrl) },
                result.GetValue(llmModel)!);

            var context = new LlmContext(result.GetValue(systemPrompt));
            var toolSets = new List<McpToolSet>();
            try
            {
                foreach (var commandLine in result.GetValue(mcp) ?? [])
                {
                    var set = await ConnectMcpAsync(commandLine, result.GetValue(verbose) ? logging : null, cancellationToken).ConfigureAwait(false);
                    toolSets.Add(set);
                    context.AddTools(set.Tools);
                }
                return await RunAsync(path, realTime, outputPath, vadParams, endpoint, chat, context, result.GetValue(voice)!, result.GetValue(json), logging, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                foreach (var set in toolSets)
                    await set.DisposeAsync().ConfigureAwait(false);
            }
        }));
        return command;
    }

    /// <summary>Starts one <c>--mcp</c> server; a failure names the program only (its arguments may hold a secret).</summary>
    private static async Task<McpToolSet> ConnectMcpAsync(string commandLine, Microsoft.Extensions.Logging.ILoggerFactory? logging, CancellationToken cancellationToken)
    {
        var program = McpTools.SplitCommandLine(commandLine).FirstOrDefault();
        if (program is null)
            throw new ArgumentException("--mcp: the MCP server command line is empty");
        try
        {
            return await McpTools.ConnectCommandLineAsync(commandLine, logging, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            var reason = exception.InnerException is System.ComponentModel.Win32Exception ? "it could not be started" : "it did not answer as an MCP server";
            throw new ArgumentException($"--mcp: {Path.GetFileName(program)}: {reason}", exception);
        }
    }

    private static async Task<int> RunAsync(string path, bool realTime, string? outputPath, VadParams vadParams, TogetherEndpoint endpoint, IChatClient chat, LlmContext context, string voice, bool json, Microsoft.Extensions.Logging.ILoggerFactory logging, CancellationToken cancellationToken)
    {
        var printer = new ConversationPrinter(Console.Out, json);
        // Fast: a held turn stops the input's time, so the wait for a late transcript is bounded by the hold, not cut
        // after a second of wall clock while the STT is still decoding (which would split or merge turns under load).
        var aggregators = context.CreateAggregators(realTime ? null : new LlmUserAggregatorOptions { TranscriptTimeout = FastTranscriptTimeout });
        aggregators.User.TurnEnded += (_, turn) => printer.User(turn.Text, turn.SpeechStart, turn.SpeechEnd);
        aggregators.Assistant.TurnEnded += (_, turn) => printer.Bot(turn.Text, turn.Interrupted);
        var outputOptions = new OutputTransportOptions { RealTime = realTime };
        OutputTransport transport = outputPath is null ? new DiscardingOutput(outputOptions) : new WavFileOutput(outputPath, outputOptions);

        List<FrameProcessor> processors =
        [
            new FileTransportInput(path, new FileTransportInputOptions { RealTime = realTime }),
            new VadProcessor(new SileroVadAnalyzer(), vadParams),
        ];
        // Fast: the file comes at once, so each turn holds the rest of it until answered, as a live user would pause.
        if (!realTime)
            processors.Add(aggregators.CreateTurnPacer());
        processors.AddRange(
        [
            new TogetherSttService(new TogetherSttOptions { ApiKey = endpoint.ApiKey, BaseUrl = endpoint.BaseUrl }),
            aggregators.User,
            new ChatClientLlmService(chat),
            new TogetherTtsService(new TogetherTtsOptions { ApiKey = endpoint.ApiKey, BaseUrl = endpoint.BaseUrl, Voice = voice }),
            transport,
            aggregators.Assistant,
            printer,
        ]);
        var pipeline = new Pipeline(processors);
        var task = new PipelineTask(pipeline, new PipelineTaskOptions { AudioInSampleRate = 16_000, AudioOutSampleRate = 24_000, LoggerFactory = logging });
        task.ErrorReceived += (_, error) => Console.Error.WriteLine($"vp: {(error.Fatal ? "error" : "warning")}: {TerminalText.CleanLine(error.Message)}");

        var completion = await new PipelineRunner(loggerFactory: logging).RunAsync(task, cancellationToken).ConfigureAwait(false);
        printer.Context(context);
        if (task.FatalError is not null)
            return CliErrors.Failed;
        return completion == PipelineCompletion.Ended ? CliErrors.Ok : CliErrors.Failed;
    }

    /// <summary>An output that plays at the transport's pace (real time or not) and discards the audio.</summary>
    private sealed class DiscardingOutput(OutputTransportOptions options) : OutputTransport(options, "discard-output")
    {
        protected override ValueTask WriteAudioAsync(ReadOnlyMemory<byte> audio, int sampleRate, int channels, CancellationToken cancellationToken)
            => ValueTask.CompletedTask;
    }

    /// <summary>
    /// Prints the conversation: turns from the aggregators' events, function calls and results as they pass the end of
    /// the pipeline, the context when the run is over. Thread-safe: events come from different loops.
    /// </summary>
    internal sealed class ConversationPrinter(TextWriter output, bool json) : FrameProcessor("conversation-printer")
    {
        private static readonly JsonSerializerOptions s_json = new(AIJsonUtilities.DefaultOptions) { WriteIndented = false };
        private readonly Lock _lock = new();

        public void User(string text, TimeSpan? start, TimeSpan? end)
            => Write("user", w =>
            {
                w.WriteString("text", text);
                WriteSeconds(w, "start", start);
                WriteSeconds(w, "end", end);
            }, $"user{Range(start, end)}: {text}");

        public void Bot(string text, bool interrupted)
            => Write("bot", w =>
            {
                w.WriteString("text", text);
                w.WriteBoolean("interrupted", interrupted);
            }, $"bot: {text}{(interrupted ? " [interrupted]" : "")}");

        public void Context(LlmContext context)
        {
            if (!json)
                return;
            Write("context", w =>
            {
                var names = new Dictionary<string, string>(StringComparer.Ordinal);
                w.WriteStartArray("messages");
                if (!string.IsNullOrEmpty(context.SystemPrompt))
                {
                    w.WriteStartObject();
                    w.WriteString("role", "system");
                    w.WriteString("content", context.SystemPrompt);
                    w.WriteEndObject();
                }
                foreach (var message in context.Messages)
                {
                    w.WriteStartObject();
                    w.WriteString("role", message.Role.Value);
                    w.WriteString("content", message.Text);
                    var calls = message.Contents.OfType<FunctionCallContent>().ToList();
                    if (calls.Count > 0)
                    {
                        w.WriteStartArray("tool_calls");
                        foreach (var call in calls)
                        {
                            names[call.CallId] = call.Name;
                            w.WriteStartObject();
                            w.WriteString("name", call.Name);
                            w.WritePropertyName("arguments");
                            WriteValue(w, call.Arguments ?? new Dictionary<string, object?>());
                            w.WriteEndObject();
                        }
                        w.WriteEndArray();
                    }
                    if (message.Contents.OfType<FunctionResultContent>().FirstOrDefault() is { } toolResult)
                    {
                        w.WriteString("name", names.GetValueOrDefault(toolResult.CallId, ""));
                        if (string.IsNullOrEmpty(message.Text))
                            w.WriteString("content", ResultText(toolResult.Result));
                    }
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }, "");
        }

        protected override ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
        {
            if (direction == FrameDirection.Downstream)
            {
                switch (frame)
                {
                    case FunctionCallInProgressFrame call:
                        WriteNamed("function_call", call.FunctionName, "arguments", call.Arguments, $"function call: {call.FunctionName}({SafeSerialize(call.Arguments)})");
                        break;
                    case FunctionCallResultFrame done:
                        WriteNamed("function_result", done.FunctionName, "result", done.Result, $"function result: {done.FunctionName} -> {ResultText(done.Result)}");
                        break;
                }
            }
            return PushFrameAsync(frame, direction, cancellationToken);
        }

        private void WriteNamed(string type, string name, string key, object? value, string text)
            => Write(type, w =>
            {
                w.WriteString("name", name);
                w.WritePropertyName(key);
                WriteValue(w, value);
            }, text);

        private void Write(string type, Action<Utf8JsonWriter> body, string text)
        {
            lock (_lock)
            {
                if (json)
                {
                    using var stream = new MemoryStream();
                    using (var writer = new Utf8JsonWriter(stream))
                    {
                        writer.WriteStartObject();
                        writer.WriteString("type", type);
                        body(writer);
                        writer.WriteEndObject();
                    }
                    output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
                }
                else
                {
                    output.WriteLine(TerminalText.Clean(text)); // what servers and tools said, never a terminal command
                }
                output.Flush();
            }
        }

        private static void WriteValue(Utf8JsonWriter writer, object? value)
        {
            try
            {
                JsonSerializer.Serialize(writer, value, s_json);
            }
            catch (Exception exception) when (exception is NotSupportedException or InvalidOperationException)
            {
                writer.WriteStringValue(value?.ToString());
            }
        }

        private static string ResultText(object? result) => result switch
        {
            null => "",
            string s => s,
            JsonElement { ValueKind: JsonValueKind.String } e => e.GetString() ?? "",
            _ => SafeSerialize(result),
        };

        private static string SafeSerialize(object value)
        {
            try
            {
                return JsonSerializer.Serialize(value, s_json);
            }
            catch (Exception exception) when (exception is NotSupportedException or InvalidOperationException)
            {
                return value.ToString() ?? "";
            }
        }

        private static string Range(TimeSpan? start, TimeSpan? end)
            => start is { } s && end is { } e ? FormattableString.Invariant($" [{s.TotalSeconds:0.00}-{e.TotalSeconds:0.00}]") : "";

        private static void WriteSeconds(Utf8JsonWriter writer, string name, TimeSpan? value)
        {
            if (value is { } v)
                writer.WriteNumber(name, Math.Round(v.TotalSeconds, 3));
            else
                writer.WriteNull(name);
        }
    }
}
