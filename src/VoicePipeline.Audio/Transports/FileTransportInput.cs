using Microsoft.Extensions.Logging;
using VoicePipeline.Frames;
using VoicePipeline.Processors;

namespace VoicePipeline.Audio.Transports;

/// <summary>Settings of a <see cref="FileTransportInput"/>.</summary>
public sealed class FileTransportInputOptions
{
    /// <summary>Gets or sets whether frames are paced in real time (through the pipeline's clock) or sent as fast as taken.</summary>
    public bool RealTime { get; set; } = true;

    /// <summary>Gets or sets the duration of each audio frame.</summary>
    public TimeSpan FrameDuration { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Gets or sets whether an <see cref="EndFrame"/> follows the last frame of the file.</summary>
    public bool EndWhenDone { get; set; } = true;
}

/// <summary>
/// Plays an audio file (any format ffmpeg decodes) into the pipeline as <see cref="InputAudioRawFrame"/>s: mono, at the
/// pipeline's input rate (through the project's resampler), one frame per 20 ms, paced in real time by default, then an
/// <see cref="EndFrame"/>. A file that cannot be decoded becomes a fatal <see cref="ErrorFrame"/> naming it.
/// </summary>
public sealed partial class FileTransportInput : SourceProcessor
{
    private readonly string _path;
    private readonly FileTransportInputOptions _options;

    /// <summary>Creates the transport for <paramref name="path"/>.</summary>
    public FileTransportInput(string path, FileTransportInputOptions? options = null, string? name = null)
        : base(name)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = path;
        _options = options ?? new FileTransportInputOptions();
    }

    /// <summary>Gets the audio time sent so far.</summary>
    public TimeSpan Position { get; private set; }

    /// <inheritdoc />
    protected override async Task PumpAsync(StartFrame start, CancellationToken cancellationToken)
    {
        var sampleRate = start.AudioInSampleRate;
        try
        {
            var decoder = await AudioFile.OpenAsync(_path, cancellationToken).ConfigureAwait(false);
            await using (decoder.ConfigureAwait(false))
            {
                Log.Playing(Logger, _path, decoder.Info.Format, decoder.Info.SampleRate, decoder.Info.Channels);
                var converter = new MonoConverter(decoder.Info.SampleRate, decoder.Info.Channels, sampleRate);
                var framer = new Framer(this, sampleRate, _options, cancellationToken);
                var buffer = new short[4096 * decoder.Info.Channels];
                int read;
                while ((read = await decoder.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                    await framer.AddAsync(converter.Convert(buffer.AsSpan(0, read)).ToArray()).ConfigureAwait(false);
                await framer.AddAsync(converter.Flush().ToArray()).ConfigureAwait(false);
                await framer.FinishAsync().ConfigureAwait(false);
            }
            if (_options.EndWhenDone)
                await PushFrameAsync(new EndFrame { Reason = "end of file" }, FrameDirection.Downstream, CancellationToken.None).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (AudioFormatException exception)
        {
            await PushErrorAsync(exception.Message, exception, ErrorCategory.InvalidRequest, fatal: true, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Cuts converted audio into fixed frames and paces them.</summary>
    private sealed class Framer(FileTransportInput owner, int sampleRate, FileTransportInputOptions options, CancellationToken cancellationToken)
    {
        private readonly short[] _frame = new short[Math.Max(1, (int)(sampleRate * options.FrameDuration.TotalSeconds))];
        private readonly long _startTimestamp = owner.TimeProvider.GetTimestamp();
        private int _filled;
        private long _sent;

        public async ValueTask AddAsync(short[] samples)
        {
            var offset = 0;
            while (offset < samples.Length)
            {
                var take = Math.Min(samples.Length - offset, _frame.Length - _filled);
                samples.AsSpan(offset, take).CopyTo(_frame.AsSpan(_filled));
                _filled += take;
                offset += take;
                if (_filled == _frame.Length)
                    await SendAsync().ConfigureAwait(false);
            }
        }

        public async ValueTask FinishAsync()
        {
            if (_filled == 0)
                return;
            _frame.AsSpan(_filled).Clear(); // the last frame is padded with silence to a whole frame
            _filled = _frame.Length;
            await SendAsync().ConfigureAwait(false);
        }

        /// <summary>Waits until <paramref name="due"/> after the start, by the pipeline's clock; exact under a fake clock too.</summary>
        private async ValueTask DelayUntilAsync(TimeSpan due)
        {
            var clock = owner.TimeProvider;
            var remaining = due - clock.GetElapsedTime(_startTimestamp);
            if (remaining <= TimeSpan.Zero)
                return;
            var elapsed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var timer = clock.CreateTimer(static s => ((TaskCompletionSource)s!).TrySetResult(), elapsed, remaining, Timeout.InfiniteTimeSpan);
            // The clock may have moved between measuring and arming the timer; then the timer is late, so look again.
            if (due - clock.GetElapsedTime(_startTimestamp) <= TimeSpan.Zero)
                return;
            await elapsed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        private async ValueTask SendAsync()
        {
            var timestamp = options.FrameDuration * _sent;
            if (options.RealTime)
                await DelayUntilAsync(timestamp).ConfigureAwait(false);
            var bytes = new byte[_filled * 2];
            Pcm.WriteLittleEndian(_frame.AsSpan(0, _filled), bytes);
            _sent++;
            _filled = 0;
            owner.Position = options.FrameDuration * _sent;
            await owner.PushFrameAsync(new InputAudioRawFrame(bytes, sampleRate) { PresentationTimestamp = timestamp }, FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 500, Level = LogLevel.Information, Message = "Playing {Path} ({Format}, {SampleRate} Hz, {Channels} channel(s))")]
        public static partial void Playing(ILogger logger, string path, string format, int sampleRate, int channels);
    }
}
