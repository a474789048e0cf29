using System.Globalization;
using System.Text.Json;
using VoicePipeline.Frames;
using VoicePipeline.Metrics;
using VoicePipeline.Observers;

namespace VoicePipeline.Transports.WebSockets.Rtvi;

/// <summary>
/// Turns frames seen anywhere in the pipeline into RTVI events for the client (a frame pushed through several
/// processors counts once) and hands them to its <see cref="RtviProcessor"/>.
/// </summary>
internal sealed class RtviObserver(RtviProcessor rtvi) : IFrameObserver
{
    private const int Remembered = 1024;
    private readonly HashSet<long> _seen = [];
    private readonly Queue<long> _order = new();
    private int _botSpeaking;

    public ValueTask OnFramePushedAsync(FramePushed pushed, CancellationToken cancellationToken = default)
    {
        var frame = pushed.Frame;
        if (frame is OutputTransportMessageUrgentFrame or InputAudioRawFrame or OutputAudioRawFrame || !FirstSight(frame.Id))
            return ValueTask.CompletedTask;
        var message = frame switch
        {
            // The output transport may announce the bot's speech both ways: one event per change.
            BotStartedSpeakingFrame => Interlocked.Exchange(ref _botSpeaking, 1) == 0 ? RtviMessages.Create("bot-started-speaking") : null,
            BotStoppedSpeakingFrame => Interlocked.Exchange(ref _botSpeaking, 0) == 1 ? RtviMessages.Create("bot-stopped-speaking") : null,
            _ => ToMessage(frame),
        };
        return message is { } m ? rtvi.SendAsync(m, cancellationToken) : ValueTask.CompletedTask;
    }

    private bool FirstSight(long id)
    {
        if (!_seen.Add(id))
            return false;
        _order.Enqueue(id);
        if (_order.Count > Remembered)
            _seen.Remove(_order.Dequeue());
        return true;
    }

    internal static JsonElement? ToMessage(Frame frame) => frame switch
    {
        UserStartedSpeakingFrame => RtviMessages.Create("user-started-speaking"),
        UserStoppedSpeakingFrame => RtviMessages.Create("user-stopped-speaking"),
        InterimTranscriptionFrame interim => Transcription(interim.Text, interim.UserId, interim.Timestamp, final: false),
        TranscriptionFrame final => Transcription(final.Text, final.UserId, final.Timestamp, final: true),
        LlmFullResponseStartFrame => RtviMessages.Create("bot-llm-started"),
        LlmFullResponseEndFrame => RtviMessages.Create("bot-llm-stopped"),
        TextFrame text when text.GetType() == typeof(TextFrame) => RtviMessages.Text("bot-llm-text", text.Text),
        TtsStartedFrame => RtviMessages.Create("bot-tts-started"),
        TtsTextFrame spoken => RtviMessages.Text("bot-tts-text", spoken.Text),
        TtsStoppedFrame => RtviMessages.Create("bot-tts-stopped"),
        MetricsFrame metrics => Metrics(metrics.Data),
        RtviServerMessageFrame server => RtviMessages.Create("server-message", null, server.Data, static (w, d) => d.WriteTo(w)),
        RtviServerResponseFrame response => RtviMessages.Create("server-response", response.Request.MessageId, response, static (w, r) =>
        {
            w.WriteStartObject();
            w.WriteString("t", r.Request.Type);
            if (r.Data is { } d)
            {
                w.WritePropertyName("d");
                d.WriteTo(w);
            }
            w.WriteEndObject();
        }),
        _ => null,
    };

    private static JsonElement Transcription(string text, string userId, DateTimeOffset timestamp, bool final)
        => RtviMessages.Create("user-transcription", null, (text, userId, timestamp, final), static (w, t) =>
        {
            w.WriteStartObject();
            w.WriteString("text", t.text);
            w.WriteString("user_id", t.userId);
            w.WriteString("timestamp", t.timestamp.ToString("O", CultureInfo.InvariantCulture));
            w.WriteBoolean("final", t.final);
            w.WriteEndObject();
        });

    /// <summary>Pipecat's metrics message: <c>{"ttfb":[{"processor":..,"value":seconds}],"processing":[..],"characters":[..]}</c>.</summary>
    private static JsonElement? Metrics(IReadOnlyList<MetricsData> data)
    {
        if (data.Count == 0)
            return null;
        return RtviMessages.Create("metrics", null, data, static (w, data) =>
        {
            w.WriteStartObject();
            Write(w, "ttfb", data.OfType<TtfbMetricsData>().Select(m => (m.Processor, m.Model, m.Value.TotalSeconds)));
            Write(w, "processing", data.OfType<ProcessingMetricsData>().Select(m => (m.Processor, m.Model, m.Value.TotalSeconds)));
            Write(w, "ttfs", data.OfType<TtfsMetricsData>().Select(m => (m.Processor, m.Model, m.Value.TotalSeconds)));
            Write(w, "characters", data.OfType<UsageMetricsData>().Where(m => m.Characters is not null).Select(m => (m.Processor, m.Model, (double)m.Characters!.Value)));
            w.WriteEndObject();
        });

        static void Write(Utf8JsonWriter w, string name, IEnumerable<(string Processor, string? Model, double Value)> values)
        {
            var started = false;
            foreach (var (processor, model, value) in values)
            {
                if (!started)
                {
                    w.WriteStartArray(name);
                    started = true;
                }
                w.WriteStartObject();
                w.WriteString("processor", processor);
                if (model is not null)
                    w.WriteString("model", model);
                w.WriteNumber("value", value);
                w.WriteEndObject();
            }
            if (started)
                w.WriteEndArray();
        }
    }
}
