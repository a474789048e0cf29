using System.Buffers;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using VoicePipeline.Frames;
using VoicePipeline.Processors;
using VoicePipeline.Transports;

namespace VoicePipeline.Audio.Transports;

/// <summary>Where PulseAudio transports connect.</summary>
public sealed class PulseAudioOptions
{
    /// <summary>Gets or sets the source (microphone) or sink (speaker) name; null uses the default device.</summary>
    public string? Device { get; set; }

    /// <summary>Gets or sets the PulseAudio server (for example <c>unix:/run/user/1000/pulse/native</c>); null uses the default.</summary>
    public string? Server { get; set; }

    /// <summary>
    /// Whether a PulseAudio server answers at <see cref="Server"/> (<c>pactl info</c>): for speaking through the speaker
    /// only when there is one. False when the server is absent, or pulseaudio-utils is not installed.
    /// </summary>
    public async Task<bool> ServerAnswersAsync(CancellationToken cancellationToken = default)
    {
        var info = new ProcessStartInfo("pactl") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (Server is not null)
            info.ArgumentList.Add("--server=" + Server);
        info.ArgumentList.Add("info");
        Process? process = null;
        try
        {
            process = Process.Start(info);
            if (process is null)
                return false;
            var drain = Task.WhenAll(process.StandardOutput.ReadToEndAsync(cancellationToken), process.StandardError.ReadToEndAsync(cancellationToken));
            await process.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            await drain.ConfigureAwait(false);
            return process.ExitCode == 0;
        }
        catch (Win32Exception)
        {
            return false;
        }
        catch (TimeoutException)
        {
            return false;
        }
        finally
        {
            Stop(process);
        }
    }

    internal Process Start(string tool, string mode, int sampleRate, bool writes)
    {
        var info = new ProcessStartInfo(tool)
        {
            UseShellExecute = false,
            RedirectStandardInput = writes,
            RedirectStandardOutput = !writes,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { mode, "--raw", "--format=s16le", "--channels=1", "--rate=" + sampleRate.ToString(CultureInfo.InvariantCulture), "--latency-msec=" + (writes ? "100" : "20") })
            info.ArgumentList.Add(argument);
        if (Device is not null)
            info.ArgumentList.Add("--device=" + Device);
        if (Server is not null)
            info.ArgumentList.Add("--server=" + Server);
        try
        {
            return Process.Start(info) ?? throw new InvalidOperationException($"{tool} did not start");
        }
        catch (Win32Exception exception)
        {
            throw new InvalidOperationException($"{tool} is not installed (sudo apt-get install pulseaudio-utils)", exception);
        }
    }

    internal static void Stop(Process? process)
    {
        if (process is null)
            return;
        try
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        process.Dispose();
    }
}

/// <summary>
/// A microphone through PulseAudio (<c>parec</c>): 20 ms <see cref="InputAudioRawFrame"/>s, mono, at the pipeline's
/// input rate (PulseAudio converts the device's format). A missing tool or server becomes a fatal <see cref="ErrorFrame"/>.
/// </summary>
public sealed class PulseAudioInput(PulseAudioOptions? options = null, string? name = null) : FrameProcessor(name)
{
    private readonly PulseAudioOptions _options = options ?? new PulseAudioOptions();
    private readonly CancellationTokenSource _stop = new();
    private Process? _process;
    private Task? _pump;

    /// <inheritdoc />
    protected override async ValueTask OnStartAsync(StartFrame frame, CancellationToken cancellationToken)
    {
        try
        {
            _process = _options.Start("parec", "--record", frame.AudioInSampleRate, writes: false);
        }
        catch (InvalidOperationException exception)
        {
            await PushErrorAsync(exception.Message, exception, ErrorCategory.InvalidRequest, fatal: true, cancellationToken).ConfigureAwait(false);
            return;
        }
        _pump = Task.Run(() => PumpAsync(_process, frame.AudioInSampleRate, _stop.Token), CancellationToken.None);
    }

    /// <inheritdoc />
    protected override async ValueTask OnCancelAsync(CancelFrame frame, CancellationToken cancellationToken) => await StopAsync().ConfigureAwait(false);

    /// <inheritdoc />
    protected override async ValueTask OnEndAsync(EndFrame frame, CancellationToken cancellationToken) => await StopAsync().ConfigureAwait(false);

    /// <inheritdoc />
    public override async ValueTask CleanupAsync(CancellationToken cancellationToken = default)
    {
        await StopAsync().ConfigureAwait(false);
        await base.CleanupAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        PulseAudioOptions.Stop(Interlocked.Exchange(ref _process, null));
        if (_pump is not null)
            await _pump.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task PumpAsync(Process process, int sampleRate, CancellationToken cancellationToken)
    {
        var frameBytes = sampleRate / 50 * 2;
        var stream = process.StandardOutput.BaseStream;
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        var position = TimeSpan.Zero;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var buffer = new byte[frameBytes]; // each frame owns its audio: it travels on through the pipeline
                await stream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
                await PushFrameAsync(new InputAudioRawFrame(buffer, sampleRate) { PresentationTimestamp = position }, FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
                position += TimeSpan.FromMilliseconds(20);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (EndOfStreamException)
        {
            if (!cancellationToken.IsCancellationRequested)
            {
                var reason = (await stderr.ConfigureAwait(false)).Trim();
                await PushErrorAsync($"The microphone stopped (parec: {(reason.Length > 0 ? reason : "no details")})", category: ErrorCategory.Connectivity, fatal: true, cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
        }
    }
}

/// <summary>
/// A speaker through PulseAudio (<c>pacat</c>), as an <see cref="OutputTransport"/>: plays every
/// <see cref="OutputAudioRawFrame"/> (TTS audio included) at the pipeline's output rate, converted with the project's
/// resampler, in 20 ms chunks paced by the device (writes block while <c>pacat</c> and its pipe are full; by default
/// <see cref="OutputTransportOptions.RealTime"/> is false, so the bot speaking frames run ahead of the speaker by what
/// the pipe holds), and passes all frames on. A missing tool or server becomes a fatal <see cref="ErrorFrame"/>.
/// </summary>
public sealed class PulseAudioOutput(PulseAudioOptions? options = null, OutputTransportOptions? output = null, string? name = null)
    : OutputTransport(output ?? new OutputTransportOptions { RealTime = false }, name)
{
    private readonly PulseAudioOptions _options = options ?? new PulseAudioOptions();
    private Process? _process;
    private MonoConverter? _converter;
    private int _channels;
    private int _rate;

    /// <inheritdoc />
    protected override async ValueTask OnStartAsync(StartFrame frame, CancellationToken cancellationToken)
    {
        _rate = frame.AudioOutSampleRate;
        try
        {
            _process = _options.Start("pacat", "--playback", _rate, writes: true);
        }
        catch (InvalidOperationException exception)
        {
            await PushErrorAsync(exception.Message, exception, ErrorCategory.InvalidRequest, fatal: true, cancellationToken).ConfigureAwait(false);
        }
        await base.OnStartAsync(frame, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override async ValueTask WriteAudioAsync(ReadOnlyMemory<byte> audio, int sampleRate, int channels, CancellationToken cancellationToken)
    {
        if (_process is not { HasExited: false } process)
            return;
        if (_converter is null || _converter.InputRate != sampleRate || _channels != channels)
        {
            _converter = new MonoConverter(sampleRate, channels, _rate);
            _channels = channels;
        }
        var samples = _converter.Convert(Pcm.AsSamples(audio.Span));
        var length = samples.Length * 2;
        var bytes = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(samples).CopyTo(bytes);
            await process.StandardInput.BaseStream.WriteAsync(bytes.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            await process.StandardInput.BaseStream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <inheritdoc />
    protected override async ValueTask OnEndAsync(EndFrame frame, CancellationToken cancellationToken)
    {
        await base.OnEndAsync(frame, cancellationToken).ConfigureAwait(false);
        // Let what was written play out (bounded), then stop.
        if (_process is { HasExited: false } process)
        {
            process.StandardInput.Close();
            await process.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        PulseAudioOptions.Stop(Interlocked.Exchange(ref _process, null));
    }

    /// <inheritdoc />
    public override async ValueTask CleanupAsync(CancellationToken cancellationToken = default)
    {
        await base.CleanupAsync(cancellationToken).ConfigureAwait(false);
        PulseAudioOptions.Stop(Interlocked.Exchange(ref _process, null));
    }
}
