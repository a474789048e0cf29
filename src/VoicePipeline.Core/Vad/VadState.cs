namespace VoicePipeline.Vad;

/// <summary>Where the user is, for the voice activity state machine.</summary>
public enum VadState
{
    /// <summary>Not speaking.</summary>
    Quiet,

    /// <summary>Speech heard, not yet long enough to count as speaking.</summary>
    Starting,

    /// <summary>Speaking.</summary>
    Speaking,

    /// <summary>Silence heard, not yet long enough to count as stopped.</summary>
    Stopping,
}

/// <summary>A confirmed change of speaking state.</summary>
/// <param name="Speaking">True when the user started speaking, false when they stopped.</param>
/// <param name="Timestamp">The audio time at which the change was confirmed (end of the deciding window).</param>
/// <param name="WaitedSecs">How long the state machine waited before confirming: speech really began (or ended) this much earlier.</param>
public readonly record struct VadTransition(bool Speaking, TimeSpan Timestamp, double WaitedSecs);
