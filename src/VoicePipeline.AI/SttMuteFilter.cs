using VoicePipeline.Frames;
using VoicePipeline.Processors;

namespace VoicePipeline.AI;

/// <summary>When an <see cref="SttMuteFilter"/> keeps the user's speech from the STT and the conversation.</summary>
[Flags]
public enum SttMuteStrategies
{
    /// <summary>Never.</summary>
    None = 0,

    /// <summary>From the start until the bot's first speech ended (a greeting the user cannot talk over).</summary>
    UntilFirstBotComplete = 1,

    /// <summary>While the bot speaks for the first time.</summary>
    FirstSpeech = 2,

    /// <summary>While function calls run.</summary>
    FunctionCall = 4,

    /// <summary>Whenever the bot speaks.</summary>
    Always = 8,
}

/// <summary>
/// Mutes the user while its <see cref="SttMuteStrategies"/> say so (Pipecat's <c>STTMuteFilter</c>): input audio, the
/// VAD's speaking frames, transcripts and interruptions are dropped, so the user can neither be transcribed nor
/// interrupt. Place it after the VAD, before the STT; it learns when the bot speaks from the output transport's
/// bot-speaking frames and when functions run from the LLM service's function-call frames, both pushed upstream.
/// </summary>
public sealed class SttMuteFilter : FrameProcessor
{
    private readonly Lock _gate = new();
    private readonly HashSet<string> _callsInProgress = new(StringComparer.Ordinal);
    private bool _botSpeaking;
    private bool _firstSpeechStarted;
    private bool _firstSpeechEnded;

    /// <summary>Creates the filter.</summary>
    public SttMuteFilter(SttMuteStrategies strategies, string? name = null)
        : base(name)
        => Strategies = strategies;

    /// <summary>Gets the strategies in force.</summary>
    public SttMuteStrategies Strategies { get; }

    /// <summary>Gets whether the user is muted now.</summary>
    public bool IsMuted
    {
        get { lock (_gate) return MutedLocked(); }
    }

    /// <inheritdoc />
    protected override ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
        => FilterAsync(frame, direction, cancellationToken);

    /// <inheritdoc />
    protected override ValueTask ProcessSystemFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
        => FilterAsync(frame, direction, cancellationToken);

    private ValueTask FilterAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        bool drop;
        lock (_gate)
        {
            switch (frame)
            {
                case BotStartedSpeakingFrame:
                    _botSpeaking = true;
                    _firstSpeechStarted = true;
                    break;
                case BotStoppedSpeakingFrame:
                    _botSpeaking = false;
                    _firstSpeechEnded |= _firstSpeechStarted;
                    break;
                case FunctionCallInProgressFrame call:
                    _callsInProgress.Add(call.CallId);
                    break;
                case FunctionCallResultFrame result:
                    _callsInProgress.Remove(result.CallId);
                    break;
            }
            drop = direction == FrameDirection.Downstream
                && frame is InputAudioRawFrame or UserStartedSpeakingFrame or UserStoppedSpeakingFrame or InterruptionFrame
                    or InterimTranscriptionFrame or TranscriptionFrame
                && MutedLocked();
        }
        return drop ? ValueTask.CompletedTask : PushFrameAsync(frame, direction, cancellationToken);
    }

    private bool MutedLocked()
        => (Strategies.HasFlag(SttMuteStrategies.UntilFirstBotComplete) && !_firstSpeechEnded)
            || (Strategies.HasFlag(SttMuteStrategies.FirstSpeech) && _botSpeaking && !_firstSpeechEnded)
            || (Strategies.HasFlag(SttMuteStrategies.FunctionCall) && _callsInProgress.Count > 0)
            || (Strategies.HasFlag(SttMuteStrategies.Always) && _botSpeaking);
}
