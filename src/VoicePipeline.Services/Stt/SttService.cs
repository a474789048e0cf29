using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using VoicePipeline.Frames;
using VoicePipeline.Metrics;
using VoicePipeline.Processors;

namespace VoicePipeline.Services;

/// <summary>
/// Base of the speech-to-text processors. It owns the frame protocol every provider shares: user audio and the VAD's
/// speaking frames are passed on and handed to the provider hooks (unless muted by an <see cref="SttMuteFrame"/>),
/// <see cref="SttUpdateSettingsFrame"/>s are applied (targeted or not) and passed on, and transcripts go out as
/// <see cref="InterimTranscriptionFrame"/>s and finalized <see cref="TranscriptionFrame"/>s with time to final segment
/// (TTFS) and audio-seconds usage metrics. A provider implements the hooks and calls the Push helpers.
/// </summary>
/// <remarks>
/// The audio and speaking hooks run on the input loop (system frames), the settings hook on the process loop; they may
/// run at the same time, so state shared between them belongs to the provider's own synchronization.
/// </remarks>
public abstract partial class SttService : FrameProcessor
{
    private readonly ServiceSettingsTracker<SttSettings> _settings;
    private volatile bool _muted;

    /// <summary>Initializes the service.</summary>
    /// <param name="settings">The initial settings (model, language, prompt).</param>
    /// <param name="userId">The user id put on transcription frames.</param>
    /// <param name="name">The processor's name (a settings update can target it).</param>
    protected SttService(SttSettings settings, string userId = "user", string? name = null)
        : base(name)
    {
        _settings = new ServiceSettingsTracker<SttSettings>(settings ?? throw new ArgumentNullException(nameof(settings)));
        UserId = userId ?? throw new ArgumentNullException(nameof(userId));
        MetricsModel = settings.Model;
    }

    /// <summary>Gets the settings in force.</summary>
    public SttSettings Settings => _settings.Current;

    /// <summary>
    /// Gets or sets whether user audio goes on downstream once the service has it (true by default, like Pipecat's
    /// <c>audio_passthrough</c>). A pipeline whose later processors never read input audio (<c>vp serve</c>: aggregators,
    /// LLM, TTS, output) turns it off and saves every later processor a hop per audio frame. Set it before the pipeline starts.
    /// </summary>
    public bool AudioPassthrough { get; set; } = true;

    /// <summary>Gets whether transcription is muted (by an <see cref="SttMuteFrame"/>).</summary>
    public bool IsMuted => _muted;

    /// <summary>Gets the user id put on transcription frames.</summary>
    protected string UserId { get; }

    /// <summary>Called with each user audio frame (already passed on, unless <see cref="AudioPassthrough"/> is off), on the input loop, unless muted.</summary>
    protected abstract ValueTask OnAudioAsync(InputAudioRawFrame audio, CancellationToken cancellationToken);

    /// <summary>Called when the VAD says the user started speaking (already passed on), unless muted.</summary>
    protected virtual ValueTask OnSpeechStartedAsync(UserStartedSpeakingFrame frame, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Called when the VAD says the user stopped speaking (already passed on), unless muted.</summary>
    protected virtual ValueTask OnSpeechStoppedAsync(UserStoppedSpeakingFrame frame, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Called after a settings update changed something; <see cref="Settings"/> already holds the new values.</summary>
    protected virtual ValueTask OnSettingsChangedAsync(IReadOnlyList<SettingChange> changes, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc />
    protected override async ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        if (frame is SttUpdateSettingsFrame update)
        {
            var changes = _settings.Apply(update, this, Logger);
            if (changes.Count > 0)
            {
                MetricsModel = Settings.Model;
                await OnSettingsChangedAsync(changes, cancellationToken).ConfigureAwait(false);
            }
        }
        await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    protected override async ValueTask ProcessSystemFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        if (AudioPassthrough || frame is not InputAudioRawFrame)
        {
            var push = PushFrameAsync(frame, direction, cancellationToken);
            if (!push.IsCompletedSuccessfully)
                await push.ConfigureAwait(false);
        }
        switch (frame)
        {
            case InputAudioRawFrame audio when !_muted:
                var work = OnAudioAsync(audio, cancellationToken);
                if (!work.IsCompletedSuccessfully)
                    await work.ConfigureAwait(false);
                break;
            case UserStartedSpeakingFrame started when !_muted:
                await OnSpeechStartedAsync(started, cancellationToken).ConfigureAwait(false);
                break;
            case UserStoppedSpeakingFrame stopped when !_muted:
                await OnSpeechStoppedAsync(stopped, cancellationToken).ConfigureAwait(false);
                break;
            case SttMuteFrame mute:
                _muted = mute.Muted;
                Log.Muted(Logger, Name, mute.Muted);
                break;
        }
    }

    /// <summary>Pushes a running transcript of the segment in flight (stops the TTFB timer on the first).</summary>
    protected async ValueTask PushInterimAsync(string text, string? language, TimeSpan? audioStart, CancellationToken cancellationToken = default)
    {
        await StopTtfbMetricsAsync(cancellationToken).ConfigureAwait(false);
        await PushFrameAsync(new InterimTranscriptionFrame(text, UserId, TimeProvider.GetUtcNow(), language ?? Settings.Language) { AudioStart = audioStart },
            FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Pushes the final transcript of <paramref name="turn"/> (nothing when the text is empty) and reports its time to
    /// final segment and audio-seconds usage.
    /// </summary>
    protected async ValueTask PushFinalAsync(string? text, string? language, SpeechTurn? turn, CancellationToken cancellationToken = default)
    {
        await StopTtfbMetricsAsync(cancellationToken).ConfigureAwait(false);
        text = text?.Trim();
        if (!string.IsNullOrEmpty(text))
        {
            await PushFrameAsync(new TranscriptionFrame(text, UserId, TimeProvider.GetUtcNow(), language ?? Settings.Language, finalized: true)
            {
                AudioStart = turn?.SpeechStart,
                AudioEnd = turn?.SpeechEnd,
            }, FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
        }
        if (turn is not null)
        {
            await ReportTtfsAsync(TimeProvider.GetElapsedTime(turn.StopTimestamp) + TimeSpan.FromSeconds(turn.StopSecs), cancellationToken).ConfigureAwait(false);
            await ReportUsageAsync(new UsageMetricsData(Name, Settings.Model) { AudioSeconds = turn.Seconds }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Pushes a provider's failure upstream as an <see cref="ErrorFrame"/>.</summary>
    protected ValueTask PushFailureAsync(ServiceFailure failure, Exception? exception = null, bool fatal = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return PushErrorAsync(failure.Message, exception, failure.Category, fatal, cancellationToken);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 700, Level = LogLevel.Debug, Message = "{Service}: muted {Muted}")]
        public static partial void Muted(ILogger logger, string service, bool muted);
    }
}

/// <summary>One utterance, from the VAD's start to its stop, waiting for its final transcript.</summary>
/// <param name="EndPosition">Where the utterance ends in the service's audio (samples at its model rate since the stream began).</param>
/// <param name="SpeechStart">When speech started, in audio time, when known.</param>
/// <param name="SpeechEnd">When speech ended, in audio time.</param>
/// <param name="StopTimestamp">The <see cref="TimeProvider"/> timestamp of the stop.</param>
/// <param name="StopSecs">How long the VAD waited before it reported the stop.</param>
public sealed record SpeechTurn(long EndPosition, TimeSpan? SpeechStart, TimeSpan SpeechEnd, long StopTimestamp, double StopSecs)
{
    /// <summary>Gets the utterance's length in seconds (zero when its start is unknown).</summary>
    public double Seconds => Math.Max(0, (SpeechEnd - (SpeechStart ?? SpeechEnd)).TotalSeconds);
}
