namespace VoicePipeline.Frames;

/// <summary>
/// The VAD confirmed the user started speaking. <see cref="Timestamp"/> is the audio time of confirmation;
/// speech really began <see cref="StartSecs"/> earlier.
/// </summary>
public sealed class UserStartedSpeakingFrame : SystemFrame
{
    /// <summary>Gets the audio time (since the stream started) at which the VAD confirmed speech.</summary>
    public TimeSpan Timestamp { get; init; }

    /// <summary>Gets how many seconds of speech the VAD waited for before confirming.</summary>
    public double StartSecs { get; init; }

    /// <summary>Gets the audio time at which speech really began.</summary>
    public TimeSpan SpeechStart => Timestamp - TimeSpan.FromSeconds(StartSecs);
}

/// <summary>
/// The VAD confirmed the user stopped speaking. <see cref="Timestamp"/> is the audio time of confirmation;
/// speech really ended <see cref="StopSecs"/> earlier.
/// </summary>
public sealed class UserStoppedSpeakingFrame : SystemFrame
{
    /// <summary>Gets the audio time (since the stream started) at which the VAD confirmed silence.</summary>
    public TimeSpan Timestamp { get; init; }

    /// <summary>Gets how many seconds of silence the VAD waited for before confirming.</summary>
    public double StopSecs { get; init; }

    /// <summary>Gets the audio time at which speech really ended.</summary>
    public TimeSpan SpeechEnd => Timestamp - TimeSpan.FromSeconds(StopSecs);
}

/// <summary>
/// The bot's audio started playing out. Emitted by the output transport from what it actually plays, pushed both
/// downstream and upstream so processors on either side (aggregators, mute filters, idle timers) know the bot speaks.
/// </summary>
public sealed class BotStartedSpeakingFrame : SystemFrame;

/// <summary>
/// The bot's audio stopped playing out (the reply ended, was interrupted, or the audio ran dry). Emitted by the output
/// transport, pushed both downstream and upstream.
/// </summary>
public sealed class BotStoppedSpeakingFrame : SystemFrame;
