namespace VoicePipeline.Frames;

/// <summary>Raw PCM audio: signed 16-bit little-endian samples, interleaved when there are several channels.</summary>
public interface IAudioFrame
{
    /// <summary>Gets the PCM s16le bytes.</summary>
    ReadOnlyMemory<byte> Audio { get; }

    /// <summary>Gets the sample rate (Hz).</summary>
    int SampleRate { get; }

    /// <summary>Gets the number of interleaved channels.</summary>
    int Channels { get; }
}

/// <summary>Audio captured from the user by an input transport. A system frame: it is never queued behind data.</summary>
public sealed class InputAudioRawFrame : SystemFrame, IAudioFrame
{
    /// <summary>Creates an input audio frame.</summary>
    public InputAudioRawFrame(ReadOnlyMemory<byte> audio, int sampleRate, int channels = 1)
    {
        AudioFrameGuard.Validate(audio, sampleRate, channels);
        Audio = audio;
        SampleRate = sampleRate;
        Channels = channels;
    }

    /// <inheritdoc />
    public ReadOnlyMemory<byte> Audio { get; }

    /// <inheritdoc />
    public int SampleRate { get; }

    /// <inheritdoc />
    public int Channels { get; }

    /// <summary>Gets the number of samples per channel.</summary>
    public int SampleCount => Audio.Length / (2 * Channels);

    /// <summary>Gets the duration of the audio.</summary>
    public TimeSpan Duration => TimeSpan.FromSeconds((double)SampleCount / SampleRate);
}

/// <summary>Audio to play to the user through an output transport.</summary>
public class OutputAudioRawFrame : DataFrame, IAudioFrame
{
    /// <summary>Creates an output audio frame.</summary>
    public OutputAudioRawFrame(ReadOnlyMemory<byte> audio, int sampleRate, int channels = 1)
    {
        AudioFrameGuard.Validate(audio, sampleRate, channels);
        Audio = audio;
        SampleRate = sampleRate;
        Channels = channels;
    }

    /// <inheritdoc />
    public ReadOnlyMemory<byte> Audio { get; }

    /// <inheritdoc />
    public int SampleRate { get; }

    /// <inheritdoc />
    public int Channels { get; }

    /// <summary>Gets the number of samples per channel.</summary>
    public int SampleCount => Audio.Length / (2 * Channels);

    /// <summary>Gets the duration of the audio.</summary>
    public TimeSpan Duration => TimeSpan.FromSeconds((double)SampleCount / SampleRate);
}

/// <summary>Audio synthesized by a text-to-speech service.</summary>
public sealed class TtsAudioRawFrame : OutputAudioRawFrame
{
    /// <summary>Creates a TTS audio frame.</summary>
    public TtsAudioRawFrame(ReadOnlyMemory<byte> audio, int sampleRate, int channels = 1)
        : base(audio, sampleRate, channels)
    {
    }

    /// <summary>Gets the id of the synthesis context this audio belongs to, when the service has one.</summary>
    public string? ContextId { get; init; }
}

internal static class AudioFrameGuard
{
    public static void Validate(ReadOnlyMemory<byte> audio, int sampleRate, int channels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleRate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        if (audio.Length % (2 * channels) != 0)
        {
            throw new ArgumentException($"Audio of {audio.Length} bytes is not a whole number of {channels}-channel s16le samples.", nameof(audio));
        }
    }
}
