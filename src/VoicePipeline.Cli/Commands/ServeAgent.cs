using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VoicePipeline.AI;
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
/// What <c>vp serve</c> runs: the web host and, per session, input -> VAD (one shared Silero batcher) -> Together STT
/// -> user aggregator -> LLM -> Together TTS -> output -> assistant aggregator. The load benchmark builds its server
/// from this too, so it measures exactly what <c>vp serve</c> runs.
/// </summary>
internal sealed class ServeAgent : IDisposable
{
    /// <summary>
    /// Audio is sent to the STT in 200 ms appends rather than 20 ms ones (Together's own examples append 100-256 ms): a
    /// tenth of the messages for a server carrying many sessions; a commit still sends what is gathered first, so only
    /// interim transcripts can be up to 180 ms later.
    /// </summary>
    internal static readonly TimeSpan SttAppendInterval = TimeSpan.FromMilliseconds(200);

    private readonly Uri _baseUrl;
    private readonly string _apiKey;
    private readonly string _prompt;
    private readonly string _voice;
    private readonly ILoggerFactory _logging;
    private readonly IDisposable _chatClient;
    private readonly Microsoft.Extensions.AI.IChatClient _chat;

    public ServeAgent(Uri baseUrl, string apiKey, string systemPrompt, string llmModel, string voice, ILoggerFactory logging)
    {
        _baseUrl = baseUrl;
        _apiKey = apiKey;
        _prompt = systemPrompt;
        _voice = voice;
        _logging = logging;
        _chat = TogetherChat.CreateChatClient(new TogetherClientOptions { ApiKey = apiKey, BaseUrl = baseUrl }, llmModel);
        _chatClient = _chat;
    }

    /// <summary>
    /// Gets the VAD batcher every session shares. A window waits up to 10 ms for other sessions' windows: with many
    /// sessions the batches grow several times larger (cheaper per window) and the deadline timer fires less often.
    /// A batch runs whole on one core: split across both it finishes sooner but costs half as much CPU again, and a
    /// server with many sessions has no idle core to lend.
    /// </summary>
    public SileroVadBatcher VadBatcher { get; } = new() { MaxWait = TimeSpan.FromMilliseconds(10), SplitLargeBatches = false };

    /// <summary>
    /// Gets or sets whether sessions report TTFB and usage metrics (so traced sessions carry them on their spans, which
    /// come from the processors' metrics frames); <c>vp serve --otlp</c> turns it on.
    /// </summary>
    public bool EnableMetrics { get; init; }

    /// <summary>
    /// Gets whether the runtime completes socket operations on its I/O thread instead of queuing them to the thread
    /// pool (<c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c> in the environment the process started with, as the
    /// Dockerfile sets it); the host then has Kestrel run its own continuations there too.
    /// </summary>
    /// <remarks>
    /// Set, an audio message goes from the socket to the session's first processor without waiting twice in the thread
    /// pool's queue, which a full server feels as lag: at 450 sessions on 2 cores the frame lag p99 was 72-146 ms
    /// against 395-493 ms without, at the same CPU. Safe for <c>vp serve</c> because nothing it runs blocks: the
    /// processors run on their own loops, which a socket completion only wakes.
    /// </remarks>
    public static bool InlineSocketCompletions { get; } = Environment.GetEnvironmentVariable(InlineSocketCompletionsVariable) == "1";

    /// <summary>The runtime's environment variable behind <see cref="InlineSocketCompletions"/>.</summary>
    public const string InlineSocketCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Has Kestrel run its continuations on the I/O thread when the runtime runs socket completions there.</summary>
    public static void UseSocketScheduling(IWebHostBuilder webHost)
    {
        if (InlineSocketCompletions)
            webHost.UseSockets(o => o.UnsafePreferInlineScheduling = true);
    }

    /// <summary>The web host of <c>vp serve</c>: Kestrel on <paramref name="host"/>:<paramref name="port"/>, the voice endpoints' services.</summary>
    public static WebApplicationBuilder CreateBuilder(string host, int port, ILoggerFactory logging, Action<VoicePipelineServerOptions> configure)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(logging);
        builder.WebHost.UseUrls(string.Create(CultureInfo.InvariantCulture, $"http://{host}:{port}"));
        UseSocketScheduling(builder.WebHost);
        builder.Services.AddVoicePipelineServer(configure);
        return builder;
    }

    /// <summary>One session's processors (between the session's input and output), its task options and what follows the output.</summary>
    public AgentSession CreateSession(WebSocketSession session, bool rtvi)
    {
        ArgumentNullException.ThrowIfNull(session);
        // One conversation per session: the user aggregator makes turns and barges in when the user speaks over the
        // bot; the assistant aggregator after the output records what was actually played.
        var conversation = new LlmContext(_prompt).CreateAggregators();
        var taskOptions = new PipelineTaskOptions
        {
            AudioInSampleRate = 16_000,
            AudioOutSampleRate = 24_000,
            LoggerFactory = _logging,
            ConversationId = session.Id,
            EnableMetrics = EnableMetrics,
            EnableUsageMetrics = EnableMetrics,
        };
        var processors = new List<FrameProcessor>();
        if (rtvi)
        {
            var rtviProcessor = new RtviProcessor();
            taskOptions.Observers.Add(rtviProcessor.Observer);
            processors.Add(rtviProcessor);
        }
        processors.AddRange(
        [
            new VadProcessor(new SileroVadAnalyzer(batcher: VadBatcher), new VadParams { StopSecs = StopSecs }),
            // Nothing after the STT reads the user's audio: it stops there instead of visiting five more processors.
            new TogetherSttService(new TogetherSttOptions { ApiKey = _apiKey, BaseUrl = _baseUrl, AppendInterval = SttAppendInterval }) { AudioPassthrough = false },
            conversation.User,
            new ChatClientLlmService(_chat),
            new TogetherTtsService(new TogetherTtsOptions { ApiKey = _apiKey, BaseUrl = _baseUrl, Voice = _voice }),
        ]);
        return new AgentSession(processors, taskOptions, [conversation.Assistant]);
    }

    /// <summary>The VAD's stop seconds in <c>vp serve</c>.</summary>
    public const double StopSecs = 0.5;

    /// <summary>
    /// Maps the page <c>/</c>, the raw wire <c>/ws</c>, Pipecat's clients <c>/pipecat/ws</c>, Twilio's <c>/twilio</c> and
    /// <c>/twilio/ws</c>, <c>/healthz</c> and <c>/readyz</c>; <paramref name="run"/> runs a session (by default its pipeline as is).
    /// </summary>
    public void MapEndpoints(WebApplication app, Uri? publicAddress, Func<WebSocketSession, AgentSession, Task>? run = null)
    {
        run ??= static (session, agent) => session.RunPipelineAsync(agent.Processors, agent.TaskOptions, agent.AfterOutput);
        app.MapVoicePipelinePage("/", "/ws");
        app.MapVoicePipeline("/ws", session => run(session, CreateSession(session, rtvi: false)));
        app.MapVoicePipeline("/pipecat/ws", session => run(session, CreateSession(session, rtvi: true)), () => new ProtobufFrameSerializer());
        app.MapVoicePipeline("/twilio/ws", session => run(session, CreateSession(session, rtvi: false)), () => new TwilioFrameSerializer());
        app.MapTwilioConnect("/twilio", "/twilio/ws", publicAddress);
        app.MapVoicePipelineHealth();
    }

    public void Dispose()
    {
        _chatClient.Dispose();
        VadBatcher.Dispose();
    }
}

/// <summary>One session of the agent: the processors between input and output, the task's options, what follows the output.</summary>
internal sealed record AgentSession(List<FrameProcessor> Processors, PipelineTaskOptions TaskOptions, IReadOnlyList<FrameProcessor> AfterOutput);
