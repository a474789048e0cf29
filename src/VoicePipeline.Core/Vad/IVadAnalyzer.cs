namespace VoicePipeline.Vad;

/// <summary>The verdict on one analysis window.</summary>
/// <param name="Confidence">The model's speech probability (0..1).</param>
/// <param name="Volume">
/// The window's loudness on Pipecat's scale (0..1): ITU-R BS.1770 loudness mapped linearly from −110 LUFS (0) to
/// −10 LUFS (1), so 0.6 is −50 LUFS (about −50 dBFS RMS for speech) and digital silence is 0. Unsmoothed: the
/// <see cref="VadStateMachine"/> smooths it.
/// </param>
public readonly record struct VadWindow(float Confidence, float Volume);

/// <summary>
/// A voice activity model for one audio stream: it cuts incoming audio into windows and scores each. Implementations
/// carry per-stream state (recurrent state, context); one instance per stream.
/// </summary>
public interface IVadAnalyzer : IDisposable
{
    /// <summary>Gets the duration of one analysis window.</summary>
    TimeSpan WindowDuration { get; }

    /// <summary>Prepares for a new stream of interleaved s16 audio at <paramref name="sampleRate"/>.</summary>
    void Configure(int sampleRate, int channels);

    /// <summary>The most windows <see cref="Analyze"/> can complete for <paramref name="samples"/> interleaved input samples.</summary>
    int GetMaxWindows(int samples);

    /// <summary>Feeds audio; writes a verdict for every window it completes and returns how many.</summary>
    int Analyze(ReadOnlySpan<short> interleaved, Span<VadWindow> results);

    /// <summary>
    /// Feeds audio like <see cref="Analyze"/>, but an analyzer that shares inference with other streams waits for it
    /// without blocking a thread. The audio is consumed before this returns; <paramref name="results"/> is written by
    /// the time the task completes. The default runs <see cref="Analyze"/>.
    /// </summary>
    ValueTask<int> AnalyzeAsync(ReadOnlySpan<short> interleaved, Memory<VadWindow> results)
        => new(Analyze(interleaved, results.Span));
}
