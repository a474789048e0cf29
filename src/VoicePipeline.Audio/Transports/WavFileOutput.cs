using VoicePipeline.Frames;
using VoicePipeline.Transports;

namespace VoicePipeline.Audio.Transports;

/// <summary>
/// Records the bot's audio (every <see cref="OutputAudioRawFrame"/>, TTS audio included) to a PCM s16le mono WAV file at
/// the pipeline's output rate, resampling and down-mixing as needed, as an <see cref="OutputTransport"/>: bot speaking
/// frames, timed words and interruptions work as for any output, and all frames pass on.
/// </summary>
/// <remarks>
/// <para>In real time (<see cref="OutputTransportOptions.RealTime"/>) the file records the conversation as heard: the
/// bot's speech where it played, silence while the bot is silent, from the start of the pipeline to its end.</para>
/// <para>In fast mode (the default) audio is written as fast as it comes. When the pipeline carries input audio
/// (<see cref="InputAudioRawFrame"/>s reach the output), each stretch of the bot's speech starts where the input had got
/// to, and the file is padded with silence to the end of the input: the bot's speech on the input's timeline.</para>
/// </remarks>
public sealed class WavFileOutput : OutputTransport
{
    private readonly string _path;
    private readonly bool _realTime;
    private WavWriter? _writer;
    private MonoConverter? _converter;
    private int _channels;
    private short[] _zeros = [];
    private long _inputEndTicks; // where the input audio got to, on the input's timeline

    /// <summary>Creates the output for <paramref name="path"/>.</summary>
    /// <param name="path">The WAV file to write (replaced if it exists).</param>
    /// <param name="options">How it plays; null writes as fast as audio comes (<see cref="OutputTransportOptions.RealTime"/> false).</param>
    /// <param name="name">A name for logs.</param>
    public WavFileOutput(string path, OutputTransportOptions? options = null, string? name = null)
        : base(options ?? new OutputTransportOptions { RealTime = false }, name)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = path;
        _realTime = options?.RealTime ?? false;
    }

    /// <summary>Gets the duration written so far.</summary>
    public TimeSpan Duration => _writer is { } writer ? TimeSpan.FromSeconds((double)writer.SampleCount / writer.SampleRate) : TimeSpan.Zero;

    /// <inheritdoc />
    protected override bool WritesSilence => true;

    /// <inheritdoc />
    protected override ValueTask OnStartAsync(StartFrame frame, CancellationToken cancellationToken)
    {
        _writer = new WavWriter(File.Create(_path), frame.AudioOutSampleRate);
        return base.OnStartAsync(frame, cancellationToken);
    }

    /// <inheritdoc />
    protected override ValueTask WriteAudioAsync(ReadOnlyMemory<byte> audio, int sampleRate, int channels, CancellationToken cancellationToken)
    {
        if (_writer is { } writer)
        {
            if (_converter is null || _converter.InputRate != sampleRate || _channels != channels)
            {
                _converter = new MonoConverter(sampleRate, channels, writer.SampleRate);
                _channels = channels;
            }
            writer.Write(_converter.Convert(Pcm.AsSamples(audio.Span)));
        }
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override ValueTask WriteSilenceAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        if (_writer is { } writer)
            WriteSilenceTo(writer, (long)Math.Round(duration.TotalSeconds * writer.SampleRate));
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override ValueTask OnFrameOutAsync(Frame frame, CancellationToken cancellationToken)
    {
        switch (frame)
        {
            case InputAudioRawFrame input:
                var end = ((input.PresentationTimestamp ?? TimeSpan.Zero) + input.Duration).Ticks;
                if (end > Interlocked.Read(ref _inputEndTicks))
                    Interlocked.Exchange(ref _inputEndTicks, end);
                break;
            case BotStartedSpeakingFrame when !_realTime:
                PadToInput(); // the bot starts speaking where the input has got to
                break;
        }
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override async ValueTask OnEndAsync(EndFrame frame, CancellationToken cancellationToken)
    {
        await base.OnEndAsync(frame, cancellationToken).ConfigureAwait(false);
        if (!_realTime)
            PadToInput();
        Close();
    }

    /// <inheritdoc />
    public override async ValueTask CleanupAsync(CancellationToken cancellationToken = default)
    {
        await base.CleanupAsync(cancellationToken).ConfigureAwait(false);
        Close();
    }

    private void PadToInput()
    {
        if (_writer is not { } writer)
            return;
        var target = (long)Math.Round(TimeSpan.FromTicks(Interlocked.Read(ref _inputEndTicks)).TotalSeconds * writer.SampleRate);
        WriteSilenceTo(writer, target - writer.SampleCount);
    }

    private void WriteSilenceTo(WavWriter writer, long samples)
    {
        if (samples <= 0)
            return;
        if (_zeros.Length == 0)
            _zeros = new short[writer.SampleRate / 10];
        while (samples > 0)
        {
            var n = (int)Math.Min(samples, _zeros.Length);
            writer.Write(_zeros.AsSpan(0, n));
            samples -= n;
        }
    }

    private void Close()
    {
        _writer?.Dispose();
        _writer = null;
    }
}
