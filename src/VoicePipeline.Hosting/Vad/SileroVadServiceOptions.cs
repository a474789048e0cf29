using VoicePipeline.Vad;
using VoicePipeline.Vad.Silero;

namespace VoicePipeline.Hosting;

/// <summary>Settings of the Silero VAD that <see cref="SileroVadFactory"/> hands out.</summary>
public sealed class SileroVadServiceOptions
{
    /// <summary>Gets or sets the model file; null for the process-wide model (<see cref="SileroVadModel.Shared"/>).</summary>
    public string? ModelPath { get; set; }

    /// <summary>
    /// Gets or sets whether every analyzer scores its windows in batches with the other sessions' windows, through one
    /// shared <see cref="SileroVadBatcher"/> (the default: many sessions, no thread per stream).
    /// </summary>
    public bool Batched { get; set; } = true;

    /// <summary>Gets or sets <see cref="SileroVadBatcher.MaxWait"/> of the shared batcher (more than 0, at most 1 s).</summary>
    public TimeSpan BatchMaxWait { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>Gets or sets the parameters of the processors <see cref="SileroVadFactory.CreateProcessor"/> creates.</summary>
    public VadParams Params { get; set; } = new();
}
