using NAudio.Dsp;

namespace VoicePipeline.Audio;

/// <summary>
/// NAudio's <see cref="WdlResampler"/> (Cockos WDL, fully managed) behind <see cref="StreamingResampler"/>'s shape, for
/// mono s16 streams. Kept only to measure it against the project's resampler (tests and the resample benchmark): the
/// project's wins every use the pipeline has (see the README), so nothing in the pipeline uses this.
/// </summary>
internal sealed class WdlResamplerAdapter
{
    private readonly WdlResampler _wdl = new();
    private readonly int _inputRate;
    private readonly int _outputRate;
    private float[] _output = [];

    /// <summary>Creates the resampler.</summary>
    /// <param name="inputRate">Input rate (Hz).</param>
    /// <param name="outputRate">Output rate (Hz).</param>
    /// <param name="sincSize">
    /// Taps of WDL's windowed-sinc filter (64 is WDL's default); 0 for what NAudio's <c>WdlResamplingSampleProvider</c>
    /// uses: linear interpolation after two IIR low-pass filters.
    /// </param>
    public WdlResamplerAdapter(int inputRate, int outputRate, int sincSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputRate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputRate);
        _inputRate = inputRate;
        _outputRate = outputRate;
        if (sincSize > 0)
        {
            _wdl.SetMode(true, 0, true, sincSize);
        }
        else
        {
            _wdl.SetMode(true, 2, false);
            _wdl.SetFilterParms();
        }
        _wdl.SetFeedMode(true); // input-driven: each call hands over all the input it has
        _wdl.SetRates(inputRate, outputRate);
    }

    /// <summary>The largest number of samples <see cref="Process"/> can write for <paramref name="inputLength"/> input samples.</summary>
    public int GetMaxOutputLength(int inputLength) => (int)((long)inputLength * _outputRate / _inputRate) + 4;

    /// <summary>Resamples <paramref name="input"/>; returns the number of samples written to <paramref name="output"/>.</summary>
    public int Process(ReadOnlySpan<short> input, Span<short> output)
    {
        var wanted = _wdl.ResamplePrepare(input.Length, 1, out var inBuffer);
        var take = Math.Min(wanted, input.Length);
        for (var i = 0; i < take; i++)
            inBuffer[i] = input[i];
        if (_output.Length < output.Length)
            _output = new float[output.Length];
        var written = _wdl.ResampleOut(_output, take, output.Length, 1);
        for (var i = 0; i < written; i++)
            output[i] = Pcm.Clip(_output[i]);
        return written;
    }
}
