namespace VoicePipeline.Transports;

/// <summary>Settings of an <see cref="OutputTransport"/>.</summary>
public sealed class OutputTransportOptions
{
    /// <summary>Gets or sets how much audio is played out at a time (10 to 40 ms).</summary>
    public TimeSpan ChunkDuration { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Gets or sets how much audio may wait to be played: when the buffer holds this much, the transport stops taking
    /// frames until some has played (the frames behind wait in its queue, system frames still pass).
    /// </summary>
    public TimeSpan BufferDuration { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how long no audio must play before the bot is said to have stopped speaking, when no
    /// <c>TtsStoppedFrame</c> said so first (Pipecat's <c>BOT_VAD_STOP_SECS</c>).
    /// </summary>
    public TimeSpan BotStopDelay { get; set; } = TimeSpan.FromSeconds(0.35);

    /// <summary>
    /// Gets or sets whether audio is played at its real rate by the pipeline's clock (true), or written as fast as the
    /// sink takes it (false: a file in fast mode, or a device whose writes block while its own buffer is full).
    /// </summary>
    public bool RealTime { get; set; } = true;

    /// <summary>Gets or sets whether audio frames go on downstream once played (for recorders after the transport).</summary>
    public bool PassAudioThrough { get; set; } = true;

    /// <summary>Creates a copy of these options.</summary>
    public OutputTransportOptions Clone() => (OutputTransportOptions)MemberwiseClone();

    /// <summary>Checks the settings.</summary>
    /// <returns>These options.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public OutputTransportOptions Validate()
    {
        if (ChunkDuration < TimeSpan.FromMilliseconds(10) || ChunkDuration > TimeSpan.FromMilliseconds(40))
            throw new ArgumentOutOfRangeException(nameof(ChunkDuration), ChunkDuration, "Chunks last 10 to 40 ms.");
        if (BufferDuration < ChunkDuration)
            throw new ArgumentOutOfRangeException(nameof(BufferDuration), BufferDuration, "The buffer holds at least one chunk.");
        if (BotStopDelay <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(BotStopDelay), BotStopDelay, "The bot-stopped delay is positive.");
        return this;
    }
}
