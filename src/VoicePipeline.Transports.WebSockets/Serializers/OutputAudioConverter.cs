using VoicePipeline.Audio;
using VoicePipeline.Frames;

namespace VoicePipeline.Transports.WebSockets.Serializers;

/// <summary>
/// Converts a stream of pipeline audio frames (any rate and channel count) to mono at a wire's fixed rate with the
/// project's resampler, keeping the resampler's state from frame to frame.
/// </summary>
public sealed class OutputAudioConverter
{
    private MonoConverter? _converter;
    private int _channels;

    /// <summary>Creates a converter to <paramref name="outputRate"/> mono.</summary>
    public OutputAudioConverter(int outputRate)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputRate);
        OutputRate = outputRate;
    }

    /// <summary>Gets the wire's rate.</summary>
    public int OutputRate { get; }

    /// <summary>Converts one frame; the samples are valid until the next call.</summary>
    public ReadOnlySpan<short> Convert(IAudioFrame audio)
    {
        ArgumentNullException.ThrowIfNull(audio);
        if (_converter is null || _converter.InputRate != audio.SampleRate || _channels != audio.Channels)
        {
            _converter = new MonoConverter(audio.SampleRate, audio.Channels, OutputRate);
            _channels = audio.Channels;
        }
        return _converter.Convert(Pcm.AsSamples(audio.Audio.Span));
    }

    /// <summary>Drops the resampler's history (after an interruption the next audio starts a new stream).</summary>
    public void Reset() => _converter?.Reset();
}
