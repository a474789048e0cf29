namespace VoicePipeline.Audio;

/// <summary>The sample encoding of a WAV file's data chunk.</summary>
/// <param name="SampleRate">Samples per second per channel.</param>
/// <param name="Channels">Interleaved channels.</param>
/// <param name="BitsPerSample">8, 16, 24 or 32.</param>
/// <param name="IsFloat">Whether samples are IEEE floats (32-bit only).</param>
public readonly record struct WavFormat(int SampleRate, int Channels, int BitsPerSample, bool IsFloat)
{
    /// <summary>Gets the bytes of one sample frame (all channels).</summary>
    public int BlockAlign => Channels * BitsPerSample / 8;
}
