using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using VoicePipeline.Frames;
using VoicePipeline.Observers;
using VoicePipeline.Processors;

namespace VoicePipeline.Transports.WebSockets.Rtvi;

/// <summary>
/// RTVI, the client/server messaging of Pipecat's client SDKs (<c>label: "rtvi-ai"</c>, carried in protobuf
/// <c>MessageFrame</c>s by <see cref="Serializers.ProtobufFrameSerializer"/>), so Pipecat's own clients connect unchanged.
/// Put it right after the transport input and add its <see cref="Observer"/> to the pipeline task's observers:
/// </summary>
/// <remarks>
/// <para>From the client: <c>client-ready</c> is answered with <c>bot-ready</c>; <c>client-message</c> becomes an
/// <see cref="RtviClientMessageFrame"/>; <c>send-text</c> becomes a final <see cref="TranscriptionFrame"/> (after an
/// interruption unless its options say <c>run_immediately: false</c>); <c>disconnect-bot</c> ends the pipeline with an
/// <see cref="EndFrame"/>; anything else gets an <c>error-response</c>. Errors reaching this processor (they travel
/// upstream) go to the client as <c>error</c>.</para>
/// <para>To the client, through the <see cref="Observer"/> that sees frames wherever they are pushed:
/// <c>user-started-speaking</c>/<c>-stopped-speaking</c>, <c>bot-started-speaking</c>/<c>-stopped-speaking</c> (from the
/// output transport's <see cref="BotStartedSpeakingFrame"/>/<see cref="BotStoppedSpeakingFrame"/>), <c>user-transcription</c> (interim and final),
/// <c>bot-llm-started</c>/<c>-text</c>/<c>-stopped</c>, <c>bot-tts-started</c>/<c>-text</c>/<c>-stopped</c>,
/// <c>metrics</c>, <c>server-message</c> and <c>server-response</c>; the messages enter the pipeline here as
/// <see cref="OutputTransportMessageUrgentFrame"/>s and travel downstream to the transport output.</para>
/// <code>
/// var rtvi = new RtviProcessor();
/// var pipeline = new Pipeline(session.Input, rtvi, vad, stt, llm, tts, session.Output);
/// var task = new PipelineTask(pipeline, new PipelineTaskOptions { Observers = { rtvi.Observer } });
/// </code>
/// </remarks>
public sealed partial class RtviProcessor : FrameProcessor
{
    /// <summary>The RTVI protocol version this server speaks (Pipecat's <c>PROTOCOL_VERSION</c>).</summary>
    public const string ProtocolVersion = "2.1.0";

    private static readonly string s_libraryVersion = typeof(RtviProcessor).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates the processor.</summary>
    public RtviProcessor(TimeProvider? timeProvider = null)
        : base("RtviProcessor")
    {
        _timeProvider = timeProvider ?? TimeProvider.System;
        Observer = new RtviObserver(this);
    }

    /// <summary>Gets the observer that turns the pipeline's frames into RTVI events: add it to <c>PipelineTaskOptions.Observers</c>.</summary>
    public IFrameObserver Observer { get; }

    /// <summary>Gets whether the client sent <c>client-ready</c> (and was answered with <c>bot-ready</c>).</summary>
    public bool IsClientReady { get; private set; }

    /// <summary>Gets the RTVI version the client announced in <c>client-ready</c>.</summary>
    public string? ClientVersion { get; private set; }

    /// <inheritdoc />
    protected override async ValueTask ProcessSystemFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        switch (frame)
        {
            case InputTransportMessageFrame { Message: var message } when IsRtvi(message):
                await HandleMessageAsync(message, cancellationToken).ConfigureAwait(false);
                return;
            case ErrorFrame error when direction == FrameDirection.Upstream:
                await PushFrameAsync(new OutputTransportMessageUrgentFrame(RtviMessages.Error(null, error.Message, error.Fatal)), FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
                break;
        }
        await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Queues a message the observer made; it enters the pipeline here.</summary>
    internal ValueTask SendAsync(JsonElement message, CancellationToken cancellationToken)
        => QueueFrameAsync(new OutputTransportMessageUrgentFrame(message), FrameDirection.Downstream, cancellationToken);

    private static bool IsRtvi(JsonElement message)
        => message.ValueKind == JsonValueKind.Object && message.TryGetProperty("label", out var label) && label.ValueKind == JsonValueKind.String && label.ValueEquals(RtviMessages.Label);

    private async ValueTask HandleMessageAsync(JsonElement message, CancellationToken cancellationToken)
    {
        var id = message.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String ? idElement.GetString()! : "";
        var type = message.TryGetProperty("type", out var typeElement) && typeElement.ValueKind == JsonValueKind.String ? typeElement.GetString() : null;
        var data = message.TryGetProperty("data", out var dataElement) ? dataElement : default;
        Log.Received(Logger, type ?? "(none)", id);
        switch (type)
        {
            case "client-ready":
                await ClientReadyAsync(id, data, cancellationToken).ConfigureAwait(false);
                break;
            case "client-message" when data.ValueKind == JsonValueKind.Object && data.TryGetProperty("t", out var t) && t.ValueKind == JsonValueKind.String:
                JsonElement? payload = data.TryGetProperty("d", out var d) ? d.Clone() : null;
                await PushFrameAsync(new RtviClientMessageFrame(id, t.GetString()!, payload), FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
                break;
            case "send-text" when data.ValueKind == JsonValueKind.Object && data.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String:
                var runImmediately = !(data.TryGetProperty("options", out var options) && options.ValueKind == JsonValueKind.Object
                    && options.TryGetProperty("run_immediately", out var run) && run.ValueKind == JsonValueKind.False);
                if (runImmediately)
                    await PushFrameAsync(new InterruptionFrame(), FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
                await PushFrameAsync(new TranscriptionFrame(content.GetString()!, "user", _timeProvider.GetUtcNow(), finalized: true), FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
                break;
            case "disconnect-bot":
                await PushFrameAsync(new EndFrame { Reason = "the client sent disconnect-bot" }, FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
                break;
            default:
                await PushFrameAsync(new OutputTransportMessageUrgentFrame(RtviMessages.Error(id, $"Unsupported or invalid message: {type ?? "(no type)"}", fatal: false)), FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    private async ValueTask ClientReadyAsync(string id, JsonElement data, CancellationToken cancellationToken)
    {
        ClientVersion = data.ValueKind == JsonValueKind.Object && data.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var major = ClientVersion?.Split('.') is [var m, _, _] && int.TryParse(m, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : -1;
        if (major is not (1 or 2))
        {
            var error = $"RTVI version {ClientVersion ?? "unknown"} is not compatible with server protocol {ProtocolVersion}. Compatibility issues may occur.";
            await PushFrameAsync(new OutputTransportMessageUrgentFrame(RtviMessages.Error(id, error, fatal: false)), FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
        }
        // A 1.x client is answered with its own version, so it stays on the protocol it knows (as Pipecat does).
        var version = major == 1 ? ClientVersion! : ProtocolVersion;
        var ready = RtviMessages.Create("bot-ready", id, version, static (w, version) =>
        {
            w.WriteStartObject();
            w.WriteString("version", version);
            w.WriteStartObject("about");
            w.WriteString("library", "VoicePipeline");
            w.WriteString("library_version", s_libraryVersion);
            w.WriteEndObject();
            w.WriteEndObject();
        });
        IsClientReady = true;
        await PushFrameAsync(new OutputTransportMessageUrgentFrame(ready), FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 950, Level = LogLevel.Debug, Message = "RTVI message {Type} ({Id}) from the client")]
        public static partial void Received(ILogger logger, string type, string id);
    }
}
