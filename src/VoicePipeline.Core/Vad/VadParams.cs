namespace VoicePipeline.Vad;

/// <summary>Parameters of the voice activity state machine.</summary>
public sealed record VadParams
{
    /// <summary>Gets the speech probability at or above which a window counts as speech (0..1).</summary>
    public double Confidence { get; init; } = 0.7;

    /// <summary>Gets how long speech must last before the user counts as speaking (seconds).</summary>
    public double StartSecs { get; init; } = 0.2;

    /// <summary>Gets how long silence must last before the user counts as stopped (seconds).</summary>
    public double StopSecs { get; init; } = 0.2;

    /// <summary>
    /// Gets the minimum smoothed volume (0..1, the scale of <see cref="VadWindow.Volume"/>: 0.6 is −50 LUFS) for a window
    /// to count as speech. It keeps faint sound the model mistakes for speech (far-off voices, a quiet TV) out.
    /// </summary>
    public double MinVolume { get; init; } = 0.6;

    /// <summary>Throws when a parameter is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public VadParams Validate()
    {
        if (Confidence is < 0 or > 1 || double.IsNaN(Confidence))
            throw new ArgumentOutOfRangeException(nameof(Confidence), Confidence, "Confidence must be between 0 and 1.");
        if (StartSecs is < 0 or > 10 || double.IsNaN(StartSecs))
            throw new ArgumentOutOfRangeException(nameof(StartSecs), StartSecs, "StartSecs must be between 0 and 10 seconds.");
        if (StopSecs is < 0 or > 10 || double.IsNaN(StopSecs))
            throw new ArgumentOutOfRangeException(nameof(StopSecs), StopSecs, "StopSecs must be between 0 and 10 seconds.");
        if (MinVolume is < 0 or > 1 || double.IsNaN(MinVolume))
            throw new ArgumentOutOfRangeException(nameof(MinVolume), MinVolume, "MinVolume must be between 0 and 1.");
        return this;
    }
}
