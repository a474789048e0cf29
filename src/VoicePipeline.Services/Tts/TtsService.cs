using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using VoicePipeline.Audio;
using VoicePipeline.Frames;
using VoicePipeline.Metrics;
using VoicePipeline.Processors;
using VoicePipeline.Text;

namespace VoicePipeline.Services;

/// <summary>
/// Base of the text-to-speech processors. It gathers plain <see cref="TextFrame"/>s (an LLM's token stream) into
/// sentences and speaks each as soon as it ends, so speech starts after the first sentence; a
/// <see cref="TtsSpeakFrame"/> is spoken at once. Around each reply it emits <see cref="TtsStartedFrame"/>,
/// <see cref="TtsAudioRawFrame"/>s at the pipeline's output rate, <see cref="TtsTextFrame"/>s (timed words when the
/// provider reports them, otherwise the sentence once its audio went out) and <see cref="TtsStoppedFrame"/>. It applies
/// <see cref="TtsUpdateSettingsFrame"/>s, reports TTFB and character usage, and turns failures into error frames: a
/// permanent one is fatal and later text is dropped; any other ends the reply with
/// <see cref="TtsStoppedFrame.IsComplete"/> false. A provider implements <see cref="SynthesizeAsync"/>.
/// </summary>
/// <remarks>
/// Everything here runs on the process loop, one frame at a time, so the reply's state needs no lock. An
/// <see cref="InterruptionFrame"/> cancels the synthesis in flight (the provider sees its token cancelled), no audio of
/// it leaves the processor after the interruption does (the base class drops it), and the reply's state is reset in
/// <see cref="OnInterruptedAsync"/>. Transcriptions (subclasses of <see cref="TextFrame"/>)
/// pass through unspoken.
/// </remarks>
public abstract partial class TtsService : FrameProcessor
{
    private readonly ServiceSettingsTracker<TtsSettings> _settings;
    private readonly SentenceAggregator _sentences = new();
    private MonoConverter? _resampler;
    private int _resamplerRate;
    private bool _speaking;
    private bool _inLlmResponse;
    private long _contexts;
    private string? _context;

    /// <summary>Initializes the service.</summary>
    /// <param name="settings">The initial settings (voice, model, language, speed).</param>
    /// <param name="name">The processor's name (a settings update can target it; synthesis contexts are named after it).</param>
    protected TtsService(TtsSettings settings, string? name = null)
        : base(name)
    {
        _settings = new ServiceSettingsTracker<TtsSettings>(settings ?? throw new ArgumentNullException(nameof(settings)));
        MetricsModel = settings.Model;
    }

    /// <summary>Gets the settings in force.</summary>
    public TtsSettings Settings => _settings.Current;

    /// <summary>Gets whether streamed text is spoken a sentence at a time (true) or only at the end of each reply.</summary>
    public bool AggregateSentences { get; init; } = true;

    /// <summary>Gets the filters applied, in order, to each text before it is synthesized.</summary>
    public IReadOnlyList<ITtsTextFilter> TextFilters { get; init; } = [];

    /// <summary>Gets whether the provider failed for good; text is dropped.</summary>
    protected bool IsFailed { get; private set; }

    /// <summary>Synthesizes <paramref name="text"/> with <paramref name="settings"/>, streaming audio and word timings.</summary>
    /// <param name="text">The text (filtered).</param>
    /// <param name="settings">The settings in force.</param>
    /// <param name="contextId">The id of this synthesis, put on its frames.</param>
    /// <param name="cancellationToken">Cancelled by an interruption: stop the synthesis.</param>
    protected abstract IAsyncEnumerable<TtsChunk> SynthesizeAsync(string text, TtsSettings settings, string contextId, CancellationToken cancellationToken);

    /// <summary>Called after a settings update changed something; <see cref="Settings"/> already holds the new values.</summary>
    protected virtual ValueTask OnSettingsChangedAsync(IReadOnlyList<SettingChange> changes, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Describes a synthesis failure: its message, category, and whether it is permanent.</summary>
    protected virtual ServiceFailure DescribeFailure(Exception exception) => ServiceFailure.Describe(exception);

    /// <summary>Reports a permanent failure (a fatal <see cref="ErrorFrame"/>); later text is dropped.</summary>
    protected ValueTask FailAsync(ServiceFailure failure, Exception? exception = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(failure);
        IsFailed = true;
        return PushErrorAsync(failure.Message, exception, failure.Category, fatal: true, cancellationToken);
    }

    /// <inheritdoc />
    protected override async ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        if (direction == FrameDirection.Upstream)
        {
            await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
            return;
        }

        switch (frame)
        {
            case TtsSpeakFrame speak:
                await SpeakAsync(speak.Text, cancellationToken).ConfigureAwait(false);
                await StopSpeakingAsync(complete: true, cancellationToken).ConfigureAwait(false);
                break;
            case TextFrame text when text.GetType() == typeof(TextFrame):
                if (IsFailed)
                    break;
                if (AggregateSentences)
                {
                    foreach (var sentence in _sentences.Add(text.Text))
                        await SpeakAsync(sentence, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    _sentences.Add(text.Text);
                }
                if (!_inLlmResponse)
                    await FlushAsync(cancellationToken).ConfigureAwait(false); // text outside a streamed reply is whole
                break;
            case LlmFullResponseStartFrame:
                _inLlmResponse = true;
                await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
                break;
            case LlmFullResponseEndFrame:
                _inLlmResponse = false;
                await FlushAsync(cancellationToken).ConfigureAwait(false);
                await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
                break;
            case TtsUpdateSettingsFrame update:
                var changes = _settings.Apply(update, this, Logger);
                if (changes.Count > 0)
                {
                    MetricsModel = Settings.Model;
                    await OnSettingsChangedAsync(changes, cancellationToken).ConfigureAwait(false);
                }
                await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
                break;
            default:
                await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    /// <inheritdoc />
    protected override ValueTask OnEndAsync(EndFrame frame, CancellationToken cancellationToken) => FlushAsync(cancellationToken);

    /// <inheritdoc />
    protected override ValueTask OnInterruptedAsync(CancellationToken cancellationToken)
    {
        // The synthesis in flight was cancelled by the base class; forget the rest of the reply.
        _sentences.Reset();
        _resampler?.Reset();
        _speaking = false;
        _inLlmResponse = false;
        return ValueTask.CompletedTask;
    }

    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_sentences.Flush() is { } rest && !IsFailed)
            await SpeakAsync(rest, cancellationToken).ConfigureAwait(false);
        await StopSpeakingAsync(complete: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Synthesizes one text and pushes its audio and words; failures become error frames.</summary>
    private async ValueTask SpeakAsync(string text, CancellationToken cancellationToken)
    {
        if (IsFailed || string.IsNullOrWhiteSpace(text))
            return;
        var spoken = text;
        foreach (var filter in TextFilters)
            spoken = filter.Filter(spoken);
        if (string.IsNullOrWhiteSpace(spoken))
            return;
        var context = _context = $"{Name}-{++_contexts}";
        if (!_speaking)
        {
            _speaking = true;
            await PushAsync(new TtsStartedFrame { ContextId = context }, cancellationToken).ConfigureAwait(false);
        }
        StartTtfbMetrics();
        var firstAudio = true;
        var timedWords = false;
        var rate = 0;
        try
        {
            await foreach (var chunk in SynthesizeAsync(spoken, Settings, context, cancellationToken).ConfigureAwait(false))
            {
                if (chunk.Words is { } words)
                {
                    timedWords = true;
                    foreach (var word in words)
                        await PushAsync(new TtsTextFrame(word.Text) { AudioStart = word.Start, AudioEnd = word.End, ContextId = context }, cancellationToken).ConfigureAwait(false);
                }
                if (chunk.Audio.IsEmpty)
                    continue;
                if (firstAudio)
                {
                    firstAudio = false;
                    await StopTtfbMetricsAsync(cancellationToken).ConfigureAwait(false);
                }
                rate = chunk.SampleRate;
                await PushAudioAsync(chunk.Audio, rate, flush: false, context, cancellationToken).ConfigureAwait(false);
            }
            if (rate != 0)
                await PushAudioAsync(ReadOnlyMemory<byte>.Empty, rate, flush: true, context, cancellationToken).ConfigureAwait(false);
            if (!timedWords)
                await PushAsync(new TtsTextFrame(text) { ContextId = context }, cancellationToken).ConfigureAwait(false);
            await ReportUsageAsync(new UsageMetricsData(Name, Settings.Model) { Characters = spoken.Length }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested && exception is not OperationCanceledException)
        {
            _resampler?.Reset();
            var failure = DescribeFailure(exception);
            Log.SynthesisFailed(Logger, Name, failure.Message);
            if (failure.IsPermanent)
                await FailAsync(failure, exception, cancellationToken).ConfigureAwait(false);
            else
                await PushErrorAsync(failure.Message, exception, failure.Category, fatal: false, cancellationToken).ConfigureAwait(false);
            await StopSpeakingAsync(complete: false, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Pushes PCM as output audio at the pipeline's rate; <paramref name="flush"/> drains the resampler.</summary>
    private ValueTask PushAudioAsync(ReadOnlyMemory<byte> audio, int rate, bool flush, string context, CancellationToken cancellationToken)
    {
        var outputRate = StartFrame?.AudioOutSampleRate ?? rate;
        if (rate != outputRate && (_resampler is null || _resamplerRate != rate))
            (_resampler, _resamplerRate) = (new MonoConverter(rate, 1, outputRate), rate);
        var resampler = rate == outputRate ? null : _resampler;
        var samples = MemoryMarshal.Cast<byte, short>(audio.Span);
        var output = resampler is null ? samples : flush ? resampler.Flush() : resampler.Convert(samples);
        if (flush)
            resampler?.Reset();
        if (output.IsEmpty)
            return ValueTask.CompletedTask;
        // Frames own their audio: downstream may keep it (a recorder, a jitter buffer).
        var bytes = MemoryMarshal.AsBytes(output).ToArray();
        return PushAsync(new TtsAudioRawFrame(bytes, outputRate) { ContextId = context }, cancellationToken);
    }

    /// <summary>
    /// Pushes a frame of the synthesis in flight; once interrupted the synthesis stops here (and the base class drops a
    /// frame pushed with a cancelled token, so nothing of it can follow the interruption downstream).
    /// </summary>
    private ValueTask PushAsync(Frame frame, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return PushFrameAsync(frame, FrameDirection.Downstream, cancellationToken);
    }

    private ValueTask StopSpeakingAsync(bool complete, CancellationToken cancellationToken)
    {
        if (!_speaking)
            return ValueTask.CompletedTask;
        _speaking = false;
        return PushAsync(new TtsStoppedFrame { IsComplete = complete, ContextId = _context }, cancellationToken);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 720, Level = LogLevel.Warning, Message = "{Service}: synthesis failed: {Reason}")]
        public static partial void SynthesisFailed(ILogger logger, string service, string reason);
    }
}
