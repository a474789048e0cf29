using System.Diagnostics;
using System.Text;
using VoicePipeline.Frames;
using VoicePipeline.Metrics;
using VoicePipeline.Processors;

namespace VoicePipeline.Observers;

/// <summary>
/// Turns the frames of one pipeline task into spans, as Pipecat's turn trace observer does: <c>conversation</c> for the
/// task, <c>turn</c> from the user starting to speak to the end of the bot's reply (a child of the conversation), and
/// <c>stt</c> (end of speech to final transcript), <c>llm</c> (response start to end) and <c>tts</c> (started to
/// stopped) under the turn, with TTFB, model, characters and tokens from the processors' <see cref="MetricsFrame"/>s.
/// Created by <see cref="Pipelines.PipelineTask"/> only while the activity source has a listener. Spans take their times
/// from the pushes, not from when this observer sees them; a turn's spans are ended when the next turn begins or the
/// conversation ends, so metrics that arrive after a service's last frame still land on its span.
/// </summary>
internal sealed class ConversationTracer : IFrameObserver
{
    private const int MaxTextLength = 4096;
    private readonly Lock _gate = new();
    private readonly TimeProvider _timeProvider;
    private readonly DateTimeOffset _anchor;
    private readonly string _conversationId;
    private readonly Activity? _conversation;
    private readonly HashSet<long> _seen = [];
    private readonly List<ServiceSpan> _loose = [];
    private readonly Dictionary<string, List<MetricsData>> _pending = new(StringComparer.Ordinal);
    private Turn? _turn;
    private int _turns;
    private ServiceSpan? _stt;
    private ServiceSpan? _llm;
    private ServiceSpan? _tts;
    private bool _botSpeaking;
    private DateTimeOffset? _botStoppedAt;
    private bool _completed;

    /// <summary>Starts the conversation span now; push times are measured from now too.</summary>
    public ConversationTracer(TimeProvider timeProvider, string? conversationId, ActivityContext parent)
    {
        _timeProvider = timeProvider;
        _anchor = timeProvider.GetUtcNow();
        _conversationId = conversationId ?? Guid.NewGuid().ToString("N");
        var previous = Activity.Current;
        Activity.Current = null; // with no parent given, StartActivity would take the ambient one (an unrecorded request)
        _conversation = VoicePipelineTelemetry.ActivitySource.StartActivity("conversation", ActivityKind.Internal, parent, startTime: _anchor);
        _conversation?.SetTag("conversation.id", _conversationId);
        _conversation?.SetTag("conversation.type", "voice");
        Activity.Current = previous;
    }

    public ValueTask OnFramePushedAsync(FramePushed pushed, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_completed)
            {
                var previous = Activity.Current;
                Activity.Current = null; // spans name their parents; none comes from this loop's context
                Observe(pushed, _anchor + pushed.Timestamp);
                Activity.Current = previous;
            }
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>Ends every open span and the conversation, now.</summary>
    public void Complete(string outcome)
    {
        lock (_gate)
        {
            if (_completed)
                return;
            _completed = true;
            var previous = Activity.Current;
            Activity.Current = null;
            var now = _timeProvider.GetUtcNow();
            // The last turn ends where the bot's reply ended, if it did; otherwise (no reply, or cut off) with the session.
            EndTurn(_turn is { BotSpoke: true } && !_botSpeaking && _botStoppedAt is { } stopped ? stopped : now, interrupted: false);
            FlushLoose(now);
            if (_conversation is not null)
            {
                _conversation.SetTag("conversation.outcome", outcome);
                _conversation.SetTag("conversation.turns", _turns);
                _conversation.SetEndTime(Max(now, _conversation.StartTimeUtc).UtcDateTime);
                _conversation.Stop();
            }
            Activity.Current = previous;
        }
    }

    private void Observe(FramePushed pushed, DateTimeOffset at)
    {
        var frame = pushed.Frame;
        switch (frame)
        {
            case UserStartedSpeakingFrame when FirstSight(frame):
                if (_turn is null || _turn.BotSpoke)
                {
                    EndTurn(_botSpeaking ? at : _botStoppedAt ?? at, interrupted: _botSpeaking);
                    StartTurn(at);
                }
                break;
            case UserStoppedSpeakingFrame when FirstSight(frame):
                _stt ??= Start("stt", "stt", "transcript", source: null, at); // the STT is known once it answers
                break;
            case TranscriptionFrame { Finalized: true } final when FirstSight(frame):
                _stt ??= Start("stt", "stt", "transcript", source: null, at);
                Describe(_stt, pushed.Source);
                _stt.Append(final.Text);
                _stt.Activity?.SetTag("is_final", true);
                if (final.Language is not null)
                    _stt.Activity?.SetTag("language", final.Language);
                _stt.Activity?.SetTag("user_id", final.UserId);
                _stt.Finish(at);
                _stt = null;
                break;
            case LlmFullResponseStartFrame when FirstSight(frame):
                _llm?.Finish(at);
                _llm = Start("llm", "chat", "output", pushed.Source, at);
                _llm.Activity?.SetTag("stream", true);
                break;
            case TextFrame text when _llm is not null && ReferenceEquals(pushed.Source, _llm.Source) && frame.GetType() == typeof(TextFrame):
                _llm.Append(text.Text);
                break;
            case LlmFullResponseEndFrame when _llm is not null && ReferenceEquals(pushed.Source, _llm.Source):
                _llm.Finish(at);
                _llm = null;
                break;
            case TtsStartedFrame when FirstSight(frame):
                _tts?.Finish(at);
                _tts = Start("tts", "tts", "text", pushed.Source, at);
                break;
            case TtsTextFrame text when _tts is not null && ReferenceEquals(pushed.Source, _tts.Source):
                _tts.Append(text.Text);
                break;
            case TtsStoppedFrame stopped when _tts is not null && ReferenceEquals(pushed.Source, _tts.Source):
                _tts.Activity?.SetTag("tts.complete", stopped.IsComplete);
                _tts.Finish(at);
                _tts = null;
                break;
            case BotStartedSpeakingFrame:
                _botSpeaking = true;
                if (_turn is not null)
                    _turn.BotSpoke = true;
                break;
            case BotStoppedSpeakingFrame:
                _botSpeaking = false;
                _botStoppedAt = at;
                break;
            case MetricsFrame metrics when FirstSight(frame):
                foreach (var data in metrics.Data)
                    Record(data);
                break;
        }
    }

    /// <summary>A frame is pushed once per link it crosses; true the first time (from the processor that made it).</summary>
    private bool FirstSight(Frame frame)
    {
        if (_seen.Count > 4096)
            _seen.Clear(); // only control, speaking and metrics frames are kept: a long conversation stays bounded
        return _seen.Add(frame.Id);
    }

    private void StartTurn(DateTimeOffset at)
    {
        _turns++;
        var activity = VoicePipelineTelemetry.ActivitySource.StartActivity("turn", ActivityKind.Internal, _conversation?.Context ?? default, startTime: at);
        activity?.SetTag("turn.number", _turns);
        activity?.SetTag("turn.type", "conversation");
        activity?.SetTag("conversation.id", _conversationId);
        _turn = new Turn(activity);
        _botStoppedAt = null;
    }

    private void EndTurn(DateTimeOffset at, bool interrupted)
    {
        if (_turn is not { } turn)
            return;
        _turn = null;
        // A service still open at the turn's end (interrupted) ends with it; a later one opens under the next turn.
        foreach (var span in new[] { _stt, _llm, _tts })
        {
            if (span is not null && span.Turn == turn)
                span.Finish(at);
        }
        if (_stt?.Turn == turn)
            _stt = null;
        if (_llm?.Turn == turn)
            _llm = null;
        if (_tts?.Turn == turn)
            _tts = null;
        foreach (var span in turn.Spans)
            span.Stop(at);
        if (turn.Activity is { } activity)
        {
            activity.SetTag("turn.was_interrupted", interrupted);
            activity.SetEndTime(Max(at, activity.StartTimeUtc).UtcDateTime);
            activity.Stop();
        }
    }

    /// <summary>Spans made outside any turn (a greeting before the user spoke) end with the conversation.</summary>
    private void FlushLoose(DateTimeOffset at)
    {
        foreach (var span in new[] { _stt, _llm, _tts })
            span?.Finish(at);
        foreach (var span in _loose)
            span.Stop(at);
        _loose.Clear();
        _stt = _llm = _tts = null;
    }

    private ServiceSpan Start(string name, string operation, string textTag, FrameProcessor? source, DateTimeOffset at)
    {
        var parent = _turn?.Activity?.Context ?? _conversation?.Context ?? default;
        var activity = VoicePipelineTelemetry.ActivitySource.StartActivity(name, ActivityKind.Client, parent, startTime: at);
        activity?.SetTag("gen_ai.operation.name", operation);
        activity?.SetTag("conversation.id", _conversationId);
        var span = new ServiceSpan(activity, _turn, textTag);
        if (_turn is not null)
            _turn.Spans.Add(span);
        else
            _loose.Add(span);
        if (source is not null)
            Describe(span, source);
        return span;
    }

    /// <summary>Names the service of a span (system, model) and applies the metrics it reported before the span knew it.</summary>
    private void Describe(ServiceSpan span, FrameProcessor source)
    {
        if (span.Source is not null)
            return;
        span.Source = source;
        span.Activity?.SetTag("gen_ai.system", source.GetType().Name);
        if (source.CurrentModel is { } model)
            span.Activity?.SetTag("gen_ai.request.model", model);
        if (_pending.Remove(source.Name, out var pending))
        {
            foreach (var data in pending)
                Record(data);
        }
    }

    private void Record(MetricsData data)
    {
        var span = Find(data.Processor);
        if (span is null)
        {
            // Reported before its span knew its service (an STT's TTFB while the user still speaks): kept for it.
            if (_pending.Count < 16)
            {
                if (!_pending.TryGetValue(data.Processor, out var list))
                    _pending[data.Processor] = list = [];
                if (list.Count < 16)
                    list.Add(data);
            }
            return;
        }
        if (span.Activity is not { } activity)
            return;
        if (data.Model is not null)
            activity.SetTag("gen_ai.request.model", data.Model);
        switch (data)
        {
            case TtfbMetricsData ttfb:
                activity.SetTag("metrics.ttfb", ttfb.Value.TotalSeconds);
                break;
            case TtfsMetricsData ttfs:
                activity.SetTag("metrics.ttfs", ttfs.Value.TotalSeconds);
                break;
            case ProcessingMetricsData processing:
                activity.SetTag("metrics.processing_time", processing.Value.TotalSeconds);
                break;
            case UsageMetricsData usage:
                if (usage.Characters is { } characters)
                    activity.SetTag("metrics.character_count", characters);
                if (usage.AudioSeconds is { } seconds)
                    activity.SetTag("metrics.audio_seconds", seconds);
                if (usage.PromptTokens is { } prompt)
                    activity.SetTag("gen_ai.usage.input_tokens", prompt);
                if (usage.CompletionTokens is { } completion)
                    activity.SetTag("gen_ai.usage.output_tokens", completion);
                break;
        }
    }

    /// <summary>The latest span of the processor named <paramref name="processor"/>: open, or ended but not yet exported.</summary>
    private ServiceSpan? Find(string processor)
    {
        foreach (var open in new[] { _stt, _llm, _tts })
        {
            if (open?.Source is not null && open.Source.Name == processor)
                return open;
        }
        var spans = _turn?.Spans ?? _loose;
        for (var i = spans.Count - 1; i >= 0; i--)
        {
            if (spans[i].Source?.Name == processor)
                return spans[i];
        }
        return null;
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTime b) => a.UtcDateTime >= b ? a : new DateTimeOffset(b, TimeSpan.Zero);

    private sealed class Turn(Activity? activity)
    {
        public Activity? Activity { get; } = activity;

        public List<ServiceSpan> Spans { get; } = [];

        public bool BotSpoke { get; set; }
    }

    /// <summary>A service call's span: ended (its end time fixed) when its last frame passes, stopped with its turn.</summary>
    private sealed class ServiceSpan(Activity? activity, Turn? turn, string textTag)
    {
        private StringBuilder? _text;
        private DateTimeOffset? _end;

        public Activity? Activity { get; } = activity;

        public FrameProcessor? Source { get; set; }

        public Turn? Turn { get; } = turn;

        public void Append(string text)
        {
            if (Activity is null)
                return;
            _text ??= new StringBuilder();
            if (_text.Length < MaxTextLength)
                _text.Append(text.AsSpan(0, Math.Min(text.Length, MaxTextLength - _text.Length)));
        }

        public void Finish(DateTimeOffset at)
        {
            if (_end is not null)
                return;
            _end = at;
            if (_text is not null)
                Activity?.SetTag(textTag, _text.ToString());
        }

        public void Stop(DateTimeOffset fallback)
        {
            if (Activity is null)
                return;
            var end = _end ?? fallback;
            Activity.SetEndTime(Max(end, Activity.StartTimeUtc).UtcDateTime);
            Activity.Stop();
        }
    }
}
