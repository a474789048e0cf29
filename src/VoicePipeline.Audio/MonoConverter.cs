namespace VoicePipeline.Audio;

/// <summary>
/// Converts interleaved audio at any rate and channel count to mono at a target rate: down-mix, then the project's
/// <see cref="StreamingResampler"/>. Reuses its buffers; the returned span is valid until the next call.
/// </summary>
public sealed class MonoConverter
{
    private readonly int _channels;
    private readonly StreamingResampler? _resampler;
    private short[] _mono = [];
    private short[] _output = [];

    /// <summary>Creates a converter from <paramref name="inputRate"/>/<paramref name="channels"/> to mono at <paramref name="outputRate"/>.</summary>
    public MonoConverter(int inputRate, int channels, int outputRate)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        _channels = channels;
        InputRate = inputRate;
        OutputRate = outputRate;
        _resampler = inputRate == outputRate ? null : new StreamingResampler(inputRate, outputRate);
    }

    /// <summary>Gets the input rate.</summary>
    public int InputRate { get; }

    /// <summary>Gets the output rate.</summary>
    public int OutputRate { get; }

    /// <summary>Converts interleaved samples; returns mono samples at the output rate (valid until the next call).</summary>
    public ReadOnlySpan<short> Convert(ReadOnlySpan<short> interleaved)
    {
        var frames = interleaved.Length / _channels;
        EnsureCapacity(ref _mono, frames);
        Pcm.DownmixToMono(interleaved, _channels, _mono);
        if (_resampler is null)
            return _mono.AsSpan(0, frames);
        EnsureCapacity(ref _output, _resampler.GetMaxOutputLength(frames));
        var written = _resampler.Process(_mono.AsSpan(0, frames), _output);
        return _output.AsSpan(0, written);
    }

    /// <summary>Returns what the resampler still holds at the end of a stream.</summary>
    public ReadOnlySpan<short> Flush()
    {
        if (_resampler is null)
            return [];
        EnsureCapacity(ref _output, _resampler.GetMaxOutputLength(2 * _resampler.TapsPerPhase)); // Flush feeds up to two filter lengths of zeros
        return _output.AsSpan(0, _resampler.Flush(_output));
    }

    /// <summary>Forgets the resampler's history, as for a new stream (after <see cref="Flush"/>, or to drop what it holds).</summary>
    public void Reset() => _resampler?.Reset();

    private static void EnsureCapacity(ref short[] buffer, int length)
    {
        if (buffer.Length < length)
            buffer = new short[Math.Max(length, buffer.Length * 2)];
    }
}
