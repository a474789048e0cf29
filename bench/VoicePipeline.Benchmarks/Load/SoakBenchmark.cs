using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace VoicePipeline.Benchmarks.Load;

/// <summary>
/// One session of <c>vp serve</c>'s pipeline (the load benchmark's server) through <c>--minutes M</c> of real-time audio:
/// the server's memory, open handles and VAD inference time are sampled every 5 s. Memory growth is the slope of RSS
/// over the second half (MiB per hour), handle growth the handles at the end minus at half time, and the VAD's cost per
/// window is compared between the first and the last minute (a fifth of the run when shorter). Nothing may grow.
/// </summary>
internal sealed class SoakBenchmark : IHotPathBenchmark
{
    private static readonly TimeSpan s_sample = TimeSpan.FromSeconds(5);

    public string Name => "soak";

    public async Task<int> RunAsync(bool json, string[] args)
    {
        LoadArgs.RejectUnknown("soak", args, ["--minutes", "--gc"], []);
        var minutes = LoadArgs.Double(args, "--minutes") ?? 10;
        if (minutes < 0.5)
        {
            Console.Error.WriteLine("soak: --minutes 0.5 or more");
            return 2;
        }
        if (await GcChoice.EnsureAsync(LoadArgs.String(args, "--gc") ?? "datas") is { } exitCode)
            return exitCode;

        var audio = await LoadAudio.LoadAsync();
        await using var server = await LoadServer.StartAsync(maxSessions: 10, keepLogs: 16);
        using var clients = HelperProcess.StartClients(audio);
        await clients.SendAsync($"open 1 {server.Url}", TimeSpan.FromMinutes(1));
        var samples = new List<(double Seconds, double Rss, int Handles, TimeSpan Vad, long Windows)>();
        var started = Stopwatch.StartNew();
        var length = TimeSpan.FromMinutes(minutes);
        while (true)
        {
            var vad = server.VadBatcher;
            samples.Add((started.Elapsed.TotalSeconds, ProcessMetrics.RssMiB(), ProcessMetrics.Handles(), vad.InferenceTime, vad.Statistics.Windows));
            if (started.Elapsed >= length)
                break;
            await Task.Delay(s_sample);
        }
        var stats = await clients.SendAsync("stats", TimeSpan.FromMinutes(1));
        var close = await clients.SendAsync("close", TimeSpan.FromMinutes(1));
        await server.WaitIdleAsync(TimeSpan.FromSeconds(30));
        if (close.GetProperty("closed_early").GetDouble() + close.GetProperty("failed").GetDouble() > 0)
            LoadBenchmark.Progress("the session was closed or broke before the end");

        var total = samples[^1].Seconds;
        var secondHalf = samples.Where(s => s.Seconds >= total / 2).ToList();
        var slope = Slope(secondHalf.Select(s => (s.Seconds / 3600, s.Rss)).ToList());
        var handleGrowth = samples[^1].Handles - secondHalf[0].Handles;
        var span = Math.Min(60, total / 5);
        var result = new Dictionary<string, object?>
        {
            ["minutes"] = Math.Round(total / 60, 2),
            ["rss_slope_mib_per_hour"] = Math.Round(slope, 2),
            ["handle_growth"] = handleGrowth,
            ["vad_us_per_window_first"] = Math.Round(VadMicroseconds(samples, 0, span), 1),
            ["vad_us_per_window_last"] = Math.Round(VadMicroseconds(samples, total - span, total), 1),
            ["rss_mib_start"] = Math.Round(samples[0].Rss, 1),
            ["rss_mib_end"] = Math.Round(samples[^1].Rss, 1),
            ["finals"] = stats.GetProperty("finals").GetDouble(),
        };
        Print(json, "Soak: one session of vp serve's pipeline in real time", result);
        return 0;
    }

    internal static void Print(bool json, string title, Dictionary<string, object?> result)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(result));
            return;
        }
        Console.WriteLine(title);
        foreach (var (key, value) in result)
            Console.WriteLine($"  {key,-28} {Convert.ToString(value, CultureInfo.InvariantCulture)}");
    }

    /// <summary>Least-squares slope of y over x.</summary>
    private static double Slope(List<(double X, double Y)> points)
    {
        if (points.Count < 2)
            return 0;
        var meanX = points.Average(p => p.X);
        var meanY = points.Average(p => p.Y);
        var covariance = points.Sum(p => (p.X - meanX) * (p.Y - meanY));
        var variance = points.Sum(p => (p.X - meanX) * (p.X - meanX));
        return variance == 0 ? 0 : covariance / variance;
    }

    private static double VadMicroseconds(List<(double Seconds, double Rss, int Handles, TimeSpan Vad, long Windows)> samples, double from, double to)
    {
        var first = samples.First(s => s.Seconds >= from);
        var last = samples.Last(s => s.Seconds <= to + 0.001);
        var windows = last.Windows - first.Windows;
        return windows <= 0 ? 0 : (last.Vad - first.Vad).TotalMicroseconds / windows;
    }
}
