using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace VoicePipeline.Audio;

/// <summary>What ffprobe says about an audio file.</summary>
/// <param name="Format">The container, for example <c>wav</c>, <c>mp3</c>, <c>ogg</c>, <c>webm</c>.</param>
/// <param name="Codec">The audio codec, for example <c>pcm_s16le</c>, <c>opus</c>.</param>
/// <param name="SampleRate">The native sample rate (Hz).</param>
/// <param name="Channels">The native channel count.</param>
/// <param name="Duration">The duration in seconds.</param>
public sealed record AudioFileInfo(string Format, string Codec, int SampleRate, int Channels, double Duration);

/// <summary>Probes and decodes audio files in any format ffmpeg reads (wav, mp3, m4a, webm, flac, ogg, opus, aac, ...).</summary>
public static class AudioFile
{
    /// <summary>The formats Together accepts, by file extension.</summary>
    public static IReadOnlyList<string> TogetherFormats { get; } = ["wav", "mp3", "m4a", "webm", "flac", "ogg", "opus", "aac"];

    /// <summary>How long ffmpeg or ffprobe may go without producing anything before it is killed.</summary>
    public static TimeSpan ToolTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Reads the file's audio metadata with ffprobe.</summary>
    /// <exception cref="AudioFormatException">Missing, empty, not audio, or unreadable.</exception>
    public static async Task<AudioFileInfo> ProbeAsync(string path, CancellationToken cancellationToken = default)
    {
        EnsureReadable(path);
        var (exitCode, stdout, stderr) = await RunToolAsync(path, "ffprobe",
            ["-v", "error", .. s_inputProtocols, "-print_format", "json", "-show_format", "-show_streams", "-select_streams", "a:0", ToolInput(path)], cancellationToken).ConfigureAwait(false);
        if (exitCode != 0)
            throw new AudioFormatException(path, $"not a readable audio file ({FirstLine(stderr, path)})");
        try
        {
            using var json = JsonDocument.Parse(stdout);
            var streams = json.RootElement.GetProperty("streams");
            if (streams.GetArrayLength() == 0)
                throw new AudioFormatException(path, "contains no audio stream");
            var stream = streams[0];
            var format = json.RootElement.GetProperty("format");
            var duration = ParseDouble(stream, "duration") ?? ParseDouble(format, "duration") ?? 0;
            var formatName = FormatName(format.GetProperty("format_name").GetString() ?? "unknown", path);
            var sampleRate = (int)(ParseDouble(stream, "sample_rate") ?? 0);
            if (formatName == "aac" && sampleRate > 0)
                duration = await CountAdtsDurationAsync(path, sampleRate, cancellationToken).ConfigureAwait(false) ?? duration;
            return new AudioFileInfo(
                formatName,
                stream.GetProperty("codec_name").GetString() ?? "unknown",
                sampleRate,
                stream.TryGetProperty("channels", out var ch) ? ch.GetInt32() : 0,
                duration);
        }
        catch (Exception exception) when (exception is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new AudioFormatException(path, "ffprobe returned unexpected metadata", exception);
        }
    }

    /// <summary>Starts decoding the file to interleaved s16 samples at its native rate and channel count.</summary>
    /// <exception cref="AudioFormatException">Missing, empty, not audio, or unreadable.</exception>
    public static async Task<AudioDecoder> OpenAsync(string path, CancellationToken cancellationToken = default)
    {
        var info = await ProbeAsync(path, cancellationToken).ConfigureAwait(false);
        if (info.SampleRate <= 0 || info.Channels <= 0)
            throw new AudioFormatException(path, "has an audio stream without a sample rate or channels");
        var process = StartTool(path, "ffmpeg", ["-nostdin", "-v", "error", .. s_inputProtocols, "-i", ToolInput(path), "-map", "0:a:0", "-f", "s16le", "-acodec", "pcm_s16le", "pipe:1"]);
        return new AudioDecoder(path, info, process);
    }

    /// <summary>Decodes a whole file to mono samples at <paramref name="sampleRate"/>, through the project's resampler.</summary>
    public static async Task<short[]> ReadMonoAsync(string path, int sampleRate, CancellationToken cancellationToken = default)
    {
        var decoder = await OpenAsync(path, cancellationToken).ConfigureAwait(false);
        await using var _ = decoder.ConfigureAwait(false);
        var converter = new MonoConverter(decoder.Info.SampleRate, decoder.Info.Channels, sampleRate);
        var result = new List<short>();
        var buffer = new short[8192 * decoder.Info.Channels];
        int read;
        while ((read = await decoder.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            result.AddRange(converter.Convert(buffer.AsSpan(0, read)).ToArray());
        result.AddRange(converter.Flush().ToArray());
        return result.ToArray();
    }

    /// <summary>
    /// The protocols ffmpeg and ffprobe may open: the file itself and the output pipe, nothing a file's contents could
    /// point them at (a playlist's http segments, an SDP's rtp streams, a concat list's URLs).
    /// </summary>
    private static readonly string[] s_inputProtocols = ["-protocol_whitelist", "file,pipe"];

    /// <summary>
    /// How a path is handed to ffmpeg: <c>file:</c> and the absolute path, so that no file name is ever read as an
    /// option (<c>-i</c>), a URL (<c>http://...</c>) or a protocol (<c>concat:a|b</c>, <c>subfile:</c>).
    /// </summary>
    internal static string ToolInput(string path) => "file:" + Path.GetFullPath(path);

    internal static void EnsureReadable(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (string.IsNullOrWhiteSpace(path))
            throw new AudioFormatException("no audio file given (the file name is empty)");
        if (path.AsSpan().IndexOfAny('\0', '\n', '\r') >= 0)
            throw new AudioFormatException(path.ReplaceLineEndings(" ").Replace('\0', ' '), "is not a valid file name (it holds a NUL or line break)");
        if (Directory.Exists(path))
            throw new AudioFormatException(path, "is a directory, not an audio file");
        if (!File.Exists(path))
            throw new AudioFormatException(path, "no such file");
        if (new FileInfo(path).Length == 0)
            throw new AudioFormatException(path, "the file is empty");
    }

    internal static Process StartTool(string path, string tool, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        try
        {
            var process = Process.Start(info) ?? throw new AudioFormatException(path, $"cannot be decoded: {tool} did not start");
            process.StandardInput.Close();
            return process;
        }
        catch (Win32Exception exception)
        {
            throw new AudioFormatException(path, $"cannot be decoded: {tool} is not installed (sudo apt-get install ffmpeg)", exception);
        }
    }

    internal static string FirstLine(string stderr, string path)
    {
        var line = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "no details";
        // ffmpeg prefixes its messages with the input it was given; keep the message only.
        foreach (var prefix in new[] { ToolInput(path) + ": ", path + ": " })
        {
            var at = line.IndexOf(prefix, StringComparison.Ordinal);
            if (at >= 0)
                return line[(at + prefix.Length)..];
        }
        return line;
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunToolAsync(string path, string tool, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        using var process = StartTool(path, tool, arguments);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ToolTimeout);
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            return (process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new AudioFormatException(path, $"{tool} did not finish within {ToolTimeout.TotalSeconds:0} s");
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
    }

    /// <summary>Raw ADTS AAC has no duration in its header (ffprobe guesses from the bit rate): count its packets instead.</summary>
    private static async Task<double?> CountAdtsDurationAsync(string path, int sampleRate, CancellationToken cancellationToken)
    {
        var (exitCode, stdout, _) = await RunToolAsync(path, "ffprobe",
            ["-v", "error", .. s_inputProtocols, "-select_streams", "a:0", "-count_packets", "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", ToolInput(path)], cancellationToken).ConfigureAwait(false);
        return exitCode == 0 && long.TryParse(stdout.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var packets)
            ? packets * 1024.0 / sampleRate // an AAC frame holds 1024 samples
            : null;
    }

    private static double? ParseDouble(JsonElement element, string name)
        => element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
           && double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;

    private static string FormatName(string formatName, string path)
    {
        // Name the container the way Together does: by the file's extension when the container matches it.
        var names = formatName.Split(',');
        var extension = Path.GetExtension(path).TrimStart('.').ToLowerInvariant();
        var matches = extension switch
        {
            "opus" => names.Contains("ogg"),
            "m4a" => names.Contains("mov") || names.Contains("mp4"),
            _ => names.Contains(extension, StringComparer.Ordinal),
        };
        if (matches)
            return extension;
        return names[0] switch { "mov" => "m4a", "matroska" => "webm", _ => names[0] };
    }
}

/// <summary>Decodes one file through an ffmpeg pipe, never holding the whole file in memory.</summary>
public sealed class AudioDecoder : IAsyncDisposable
{
    private readonly string _path;
    private readonly Process _process;
    private readonly Task<string> _stderr;
    private readonly Stream _stdout;
    private byte _carry;
    private bool _hasCarry;
    private bool _finished;

    internal AudioDecoder(string path, AudioFileInfo info, Process process)
    {
        _path = path;
        Info = info;
        _process = process;
        _stdout = process.StandardOutput.BaseStream;
        _stderr = ReadBoundedAsync(process.StandardError);
    }

    /// <summary>Gets the file's metadata.</summary>
    public AudioFileInfo Info { get; }

    /// <summary>Reads interleaved s16 samples; returns how many were read, 0 at the end of the file.</summary>
    /// <exception cref="AudioFormatException">ffmpeg failed or stalled.</exception>
    public async ValueTask<int> ReadAsync(Memory<short> destination, CancellationToken cancellationToken = default)
    {
        if (_finished || destination.IsEmpty)
            return 0;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(AudioFile.ToolTimeout);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(destination.Length * 2);
        try
        {
            var offset = 0;
            if (_hasCarry)
            {
                buffer[0] = _carry;
                offset = 1;
                _hasCarry = false;
            }
            int read;
            try
            {
                read = await _stdout.ReadAsync(buffer.AsMemory(offset, destination.Length * 2 - offset), timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                _process.Kill(entireProcessTree: true);
                throw new AudioFormatException(_path, $"ffmpeg produced nothing for {AudioFile.ToolTimeout.TotalSeconds:0} s and was stopped");
            }
            if (read == 0)
            {
                await FinishAsync().ConfigureAwait(false);
                return 0;
            }
            var total = offset + read;
            if ((total & 1) == 1)
            {
                _carry = buffer[total - 1];
                _hasCarry = true;
                total--;
            }
            Pcm.AsSamples(buffer.AsSpan(0, total)).CopyTo(destination.Span);
            return total / 2;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Exited meanwhile.
            }
        }
        await _process.WaitForExitAsync().ConfigureAwait(false);
        _process.Dispose();
    }

    private async Task FinishAsync()
    {
        _finished = true;
        using var timeout = new CancellationTokenSource(AudioFile.ToolTimeout);
        try
        {
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new AudioFormatException(_path, "ffmpeg did not exit and was stopped");
        }
        if (_process.ExitCode != 0)
            throw new AudioFormatException(_path, $"cannot be decoded ({AudioFile.FirstLine(await _stderr.ConfigureAwait(false), _path)})");
    }

    private static async Task<string> ReadBoundedAsync(StreamReader reader)
    {
        var text = new StringBuilder();
        var buffer = new char[1024];
        int n;
        while ((n = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            if (text.Length < 16 * 1024)
                text.Append(buffer, 0, n);
        }
        return text.ToString();
    }
}
