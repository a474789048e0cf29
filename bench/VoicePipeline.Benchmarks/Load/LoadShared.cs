using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using VoicePipeline.Audio;
using VoicePipeline.Vad;
using VoicePipeline.Vad.Silero;

namespace VoicePipeline.Benchmarks.Load;

/// <summary>This process's resident memory, open handles, threads and CPU time, from /proc (Linux).</summary>
internal static class ProcessMetrics
{
    public static double RssMiB() => StatusKiB("VmRSS:") / 1024.0;

    public static int Threads() => (int)StatusKiB("Threads:");

    public static int Handles() => Directory.GetFiles("/proc/self/fd").Length;

    /// <summary>The open handles by kind (socket, pipe, anon_inode:..., or a file's path), for telling what grew.</summary>
    public static Dictionary<string, int> HandleKinds() => Directory.GetFiles("/proc/self/fd")
        .Select(fd => { try { return new FileInfo(fd).LinkTarget ?? "?"; } catch (IOException) { return "?"; } })
        .Select(target => target.StartsWith("socket:", StringComparison.Ordinal) ? "socket" : target.StartsWith("pipe:", StringComparison.Ordinal) ? "pipe" : target)
        .GroupBy(kind => kind).ToDictionary(g => g.Key, g => g.Count());

    public static TimeSpan Cpu()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    /// <summary>Collects garbage fully (twice, so finalizers' objects go too), for a steady memory reading.</summary>
    public static void Settle()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    private static long StatusKiB(string key)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        return 0;
    }
}

/// <summary>Lags in 0.5 ms buckets up to a minute, recorded from any thread without a lock; percentiles over what was recorded since the last reset.</summary>
internal sealed class LagHistogram
{
    private const double BucketMs = 0.5;
    private readonly long[] _buckets = new long[(int)(60_000 / BucketMs) + 1];
    private long _count;

    public long Count => Interlocked.Read(ref _count);

    public void Record(double ms)
    {
        var index = (int)Math.Clamp(ms / BucketMs, 0, _buckets.Length - 1);
        Interlocked.Increment(ref _buckets[index]);
        Interlocked.Increment(ref _count);
    }

    public double Percentile(double percentile)
    {
        var count = Count;
        if (count == 0)
            return 0;
        var rank = (long)Math.Ceiling(percentile / 100 * count);
        long seen = 0;
        for (var i = 0; i < _buckets.Length; i++)
        {
            seen += Interlocked.Read(ref _buckets[i]);
            if (seen >= rank)
                return (i + 1) * BucketMs;
        }
        return _buckets.Length * BucketMs;
    }

    public void Reset()
    {
        for (var i = 0; i < _buckets.Length; i++)
            Interlocked.Exchange(ref _buckets[i], 0);
        Interlocked.Exchange(ref _count, 0);
    }
}

/// <summary>
/// The speech every load client streams: a LibriVox recording (samples/) at 16 kHz mono in 20 ms messages, looped, each
/// session starting at one of <see cref="Phases"/> points of it (so sessions' turns are spread over time, as real
/// callers' are); and for each starting point, the audio times at which the server's VAD (same model and parameters as
/// <c>vp serve</c>) decides each utterance ended.
/// </summary>
internal sealed class LoadAudio
{
    public const int SampleRate = 16_000;
    public const int MessageBytes = SampleRate / 50 * 2;
    public const int Phases = 16;
    public static readonly TimeSpan MessageDuration = TimeSpan.FromMilliseconds(20);

    private LoadAudio(byte[] loop, double[][] stops)
    {
        Loop = loop;
        Stops = stops;
    }

    /// <summary>Gets one pass of the recording, padded with silence to whole messages.</summary>
    public byte[] Loop { get; }

    /// <summary>
    /// Gets, for each phase, the VAD's stop decisions (seconds from the session's first message) over the first three
    /// passes; later ones repeat the third pass's.
    /// </summary>
    public double[][] Stops { get; }

    public double LoopSeconds => Loop.Length / 2.0 / SampleRate;

    /// <summary>Gets the message of the recording a session of <paramref name="phase"/> starts with.</summary>
    public long FirstMessage(int phase) => (long)phase * (Loop.Length / MessageBytes) / Phases;

    public static async Task<LoadAudio> LoadAsync()
    {
        var samples = await AudioFile.ReadMonoAsync(FindSample("sense-and-sensibility.wav"), SampleRate).ConfigureAwait(false);
        var messages = (samples.Length * 2 + MessageBytes - 1) / MessageBytes;
        var loop = new byte[messages * MessageBytes];
        Pcm.WriteLittleEndian(samples, loop);
        var stops = new double[Phases][];
        Parallel.For(0, Phases, phase => stops[phase] = VadStops(loop, (int)((long)phase * messages / Phases) * MessageBytes));
        return new LoadAudio(loop, stops);
    }

    /// <summary>The stops of three passes from <paramref name="start"/>, through the analyzer and state machine the server's VadProcessor runs.</summary>
    private static double[] VadStops(byte[] loop, int start)
    {
        using var analyzer = new SileroVadAnalyzer();
        var machine = new VadStateMachine(new VadParams { StopSecs = Cli.Commands.ServeAgent.StopSecs }, analyzer.WindowDuration);
        var windows = new VadWindow[analyzer.GetMaxWindows(MessageBytes / 2)];
        var stops = new List<double>();
        for (var sent = 0; sent < 3 * loop.Length; sent += MessageBytes)
        {
            var count = analyzer.Analyze(MemoryMarshal.Cast<byte, short>(loop.AsSpan((start + sent) % loop.Length, MessageBytes)), windows);
            for (var i = 0; i < count; i++)
            {
                if (machine.Update(windows[i]) is { Speaking: false } stop)
                    stops.Add(stop.Timestamp.TotalSeconds);
            }
        }
        return stops.ToArray();
    }

    public static LoadAudio FromFiles(string audioPath, string stopsPath)
        => new(File.ReadAllBytes(audioPath), File.ReadAllLines(stopsPath)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray());

    public (string Audio, string Stops) WriteFiles(string directory)
    {
        var audio = Path.Combine(directory, "load-audio.pcm");
        var stops = Path.Combine(directory, "load-stops.txt");
        File.WriteAllBytes(audio, Loop);
        File.WriteAllLines(stops, Stops.Select(phase => string.Join(' ', phase.Select(s => s.ToString("R", CultureInfo.InvariantCulture)))));
        return (audio, stops);
    }

    /// <summary>The latest stop decision of a session of <paramref name="phase"/> at or before its audio time <paramref name="seconds"/>, or null before the first.</summary>
    public double? LatestStop(int phase, double seconds)
    {
        var period = LoopSeconds;
        var shift = 0.0;
        if (seconds >= 3 * period)
        {
            // Past the passes computed: fold into the third pass (the VAD's state repeats from pass to pass).
            var passes = Math.Floor((seconds - 2 * period) / period);
            shift = passes * period;
            seconds -= shift;
        }
        var stops = Stops[phase];
        var index = Array.BinarySearch(stops, seconds);
        if (index < 0)
            index = ~index - 1;
        return index < 0 ? null : stops[index] + shift;
    }

    public static string FindSample(string name)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "samples", name);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException($"samples/{name} not found above {AppContext.BaseDirectory}");
    }
}
