using System.CommandLine;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VoicePipeline.AI;
using VoicePipeline.Cli.Infrastructure;
using VoicePipeline.Pipelines;
using VoicePipeline.Processors;
using VoicePipeline.Together.Chat;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Realtime;
using VoicePipeline.Together.Speech;
using VoicePipeline.Transports.WebSockets;
using VoicePipeline.Transports.WebSockets.Rtvi;
using VoicePipeline.Transports.WebSockets.Serializers;
using VoicePipeline.Vad;
using VoicePipeline.Vad.Silero;

namespace VoicePipeline.Cli.Commands;

/// <summary>
/// <c>vp serve</c>: the voice agent as a server real clients connect to. Each connection runs
/// input -> VAD (one shared Silero batcher) -> Together STT -> LLM -> Together TTS -> output, with the server's limits,
/// health endpoints and a graceful drain on SIGTERM.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var host = new Option<string>("--host") { Description = "The interface to listen on.", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "The port (0 picks a free one).", DefaultValueFactory = _ => 8765 };
        var maxSessions = new Option<int>("--max-sessions") { Description = "Sessions at once; more get 503 with Retry-After.", DefaultValueFactory = _ => 64 };
        var allowedOrigins = new Option<string[]>("--allowed-origin") { Description = "A browser origin allowed besides the server's own (repeatable; * allows all).", Arity = ArgumentArity.ZeroOrMore };
        var publicUrl = new Option<string?>("--public-url") { Description = "The address the server is reached at from the internet (Twilio's stream URL); by default the request's Host / X-Forwarded-Host." };
        var gracePeriod = new Option<double>("--grace-period") { Description = "Seconds live sessions get to finish on SIGTERM before they are ended.", DefaultValueFactory = _ => 30 };
        var systemPrompt = new Option<string>("--system-prompt") { Description = "The assistant's instructions.", DefaultValueFactory = _ => "You are a helpful, brief voice assistant." };
        var llmModel = new Option<string>("--llm-model") { Description = "The chat model.", DefaultValueFactory = _ => TogetherChat.DefaultModel };
        var voice = new Option<string>("--voice") { Description = "The TTS voice.", DefaultValueFactory = _ => TogetherTtsOptions.DefaultVoice };
        var baseUrl = new Option<string?>("--base-url") { Description = "The Together API base URL (or a compatible server)." };
        var apiKey = new Option<string?>("--api-key") { Description = "The API key (default: TOGETHER_API_KEY). Without one, the embedded emulator runs offline." };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log progress to stderr." };
        var otlp = new Option<string?>("--otlp") { Description = "Export traces (conversation, turn, stt/llm/tts spans) and metrics over OTLP/HTTP to this collector, e.g. http://localhost:4318." };
        var command = new Command("serve", "Serve the voice agent: a browser page at /, the raw wire at /ws, Twilio's webhook at /twilio, /healthz, /readyz and Prometheus /metrics.")
        {
            host, port, maxSessions, allowedOrigins, publicUrl, gracePeriod, systemPrompt, llmModel, voice, baseUrl, apiKey, verbose, otlp,
        };
        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async () =>
        {
            Uri? publicAddress = null;
            if (result.GetValue(publicUrl) is { } url && (!Uri.TryCreate(url, UriKind.Absolute, out publicAddress) || publicAddress.Scheme is not ("http" or "https")))
                throw new ArgumentException($"--public-url: '{url}' is not an absolute http(s) URL");
            var grace = result.GetValue(gracePeriod);
            if (grace < 0)
                throw new ArgumentException("--grace-period: seconds, 0 or more");
            if (result.GetValue(maxSessions) < 1)
                throw new ArgumentException("--max-sessions: 1 or more");
            var otlpEndpoint = ServeTelemetry.ParseOtlp(result.GetValue(otlp));
            await using var endpoint = await TogetherEndpoint.ResolveAsync(result.GetValue(apiKey), result.GetValue(baseUrl), cancellationToken: cancellationToken).ConfigureAwait(false);
            using var logging = CliLogging.Create(result.GetValue(verbose));

            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.Services.AddSingleton(logging);
            builder.WebHost.UseUrls(string.Create(CultureInfo.InvariantCulture, $"http://{result.GetValue(host)}:{result.GetValue(port)}"));
            ServeTelemetry.Add(builder.Services, otlpEndpoint);
            builder.Services.AddVoicePipelineServer(o =>
            {
                o.MaxSessions = result.GetValue(maxSessions);
                o.DrainGracePeriod = TimeSpan.FromSeconds(grace);
                foreach (var origin in result.GetValue(allowedOrigins) ?? [])
                    o.AllowedOrigins.Add(origin);
            });
            var app = builder.Build();
            await using (app.ConfigureAwait(false))
            {
                var together = new TogetherClientOptions { ApiKey = endpoint.ApiKey, BaseUrl = endpoint.BaseUrl };
                using var chat = TogetherChat.CreateChatClient(together, result.GetValue(llmModel)!);
                using var vadBatcher = new SileroVadBatcher();
                var prompt = result.GetValue(systemPrompt);
                var voiceName = result.GetValue(voice)!;

                app.MapVoicePipelinePage("/", "/ws");
                // One conversation per session: the user aggregator makes turns and barges in when the user speaks over
                // the bot; the assistant aggregator after the output records what was actually played.
                Task RunAgentAsync(WebSocketSession session, bool rtvi)
                {
                    var conversation = new LlmContext(prompt).CreateAggregators();
                    var taskOptions = new PipelineTaskOptions { AudioInSampleRate = 16_000, AudioOutSampleRate = 24_000, LoggerFactory = logging, ConversationId = session.Id };
                    // Traced sessions carry TTFB and usage on their spans, which come from the processors' metrics frames.
                    taskOptions.EnableMetrics = taskOptions.EnableUsageMetrics = otlpEndpoint is not null;
                    var processors = new List<FrameProcessor>();
                    if (rtvi)
                    {
                        var rtviProcessor = new RtviProcessor();
                        taskOptions.Observers.Add(rtviProcessor.Observer);
                        processors.Add(rtviProcessor);
                    }
                    processors.AddRange(
                    [
                        new VadProcessor(new SileroVadAnalyzer(batcher: vadBatcher), new VadParams { StopSecs = 0.5 }),
                        new TogetherSttService(new TogetherSttOptions { ApiKey = endpoint.ApiKey, BaseUrl = endpoint.BaseUrl }),
                        conversation.User,
                        new ChatClientLlmService(chat),
                        new TogetherTtsService(new TogetherTtsOptions { ApiKey = endpoint.ApiKey, BaseUrl = endpoint.BaseUrl, Voice = voiceName }),
                    ]);
                    return session.RunPipelineAsync(processors, taskOptions, [conversation.Assistant]);
                }
                app.MapVoicePipeline("/ws", session => RunAgentAsync(session, rtvi: false));
                app.MapVoicePipeline("/pipecat/ws", session => RunAgentAsync(session, rtvi: true), () => new ProtobufFrameSerializer());
                app.MapVoicePipeline("/twilio/ws", session => RunAgentAsync(session, rtvi: false), () => new TwilioFrameSerializer());
                app.MapTwilioConnect("/twilio", "/twilio/ws", publicAddress);
                app.MapVoicePipelineHealth();
                ServeTelemetry.MapMetrics(app);

                await app.StartAsync(cancellationToken).ConfigureAwait(false);
                var address = new Uri(app.Urls.First());
                Console.WriteLine($"vp serve: listening on {address.GetLeftPart(UriPartial.Authority)}/ (page /, raw wire /ws, Pipecat clients /pipecat/ws, Twilio webhook /twilio and stream /twilio/ws, /healthz, /readyz, /metrics); SIGTERM or Ctrl+C drains for up to {grace.ToString(CultureInfo.InvariantCulture)} s");
                // Ctrl+C and SIGTERM stop the host (its console lifetime), which drains the sessions before it stops.
                await app.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
            }
            Console.WriteLine("vp serve: stopped");
            return CliErrors.Ok;
        }));
        return command;
    }
}
