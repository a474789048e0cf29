using VoicePipeline.Frames;
using VoicePipeline.Processors;

namespace VoicePipeline.Audio.Transports;

/// <summary>
/// Writes every <see cref="OutputAudioRawFrame"/> (including TTS audio) to a PCM s16le WAV file at the pipeline's
/// output rate, resampling and down-mixing as needed, and passes all frames on.
/// </summary>
public sealed class WavFileOutput : FrameProcessor
{
    private readonly string _path;
    private WavWriter? _writer;
    private MonoConverter? _converter;

    /// <summary>Creates the output for <paramref name="path"/>.</summary>
    public WavFileOutput(string path, string? name = null)
        : base(name)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = path;
    }

    /// <inheritdoc />
    protected override ValueTask OnStartAsync(StartFrame frame, CancellationToken cancellationToken)
    {
        _writer = new WavWriter(File.Create(_path), frame.AudioOutSampleRate);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        if (frame is OutputAudioRawFrame audio && _writer is not null)
        {
            if (_converter is null || _converter.InputRate != audio.SampleRate)
                _converter = new MonoConverter(audio.SampleRate, audio.Channels, _writer.SampleRate);
            _writer.Write(_converter.Convert(Pcm.AsSamples(audio.Audio.Span)));
        }
        return base.ProcessFrameAsync(frame, direction, cancellationToken);
    }

    /// <inheritdoc />
    protected override ValueTask OnEndAsync(EndFrame frame, CancellationToken cancellationToken)
    {
        Close();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override async ValueTask CleanupAsync(CancellationToken cancellationToken = default)
    {
        await base.CleanupAsync(cancellationToken).ConfigureAwait(false);
        Close();
    }

    private void Close()
    {
        _writer?.Dispose();
        _writer = null;
    }
}
