using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace VoicePipeline.Benchmarks;

/// <summary>Shared measurement and printing helpers for the hot-path benchmarks.</summary>
internal static class BenchmarkReport
{
    /// <summary>Prints a readable table, or one JSON line (last) when <paramref name="json"/> is set.</summary>
    public static void Print(bool json, string title, IReadOnlyList<(string Key, double Value)> figures, string? note = null)
    {
        if (json)
        {
            var values = figures.ToDictionary(f => f.Key, f => (object)Round(f.Value));
            Console.WriteLine(JsonSerializer.Serialize(values));
            return;
        }
        Console.WriteLine(title);
        var width = figures.Max(f => f.Key.Length);
        foreach (var (key, value) in figures)
            Console.WriteLine($"  {key.PadRight(width)}  {Round(value).ToString(CultureInfo.InvariantCulture),14}");
        if (note is not null)
            Console.WriteLine(note);
    }

    /// <summary>The given percentile (0..100) of samples, in microseconds, from Stopwatch ticks.</summary>
    public static double PercentileMicroseconds(long[] ticks, double percentile)
        => Percentile(ticks, percentile) * 1_000_000.0 / Stopwatch.Frequency;

    /// <summary>The given percentile (0..100) of samples, nearest rank (one of the samples); there must be at least one.</summary>
    public static T Percentile<T>(IEnumerable<T> values, double percentile)
    {
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Clamp(Math.Ceiling(percentile / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    private static double Round(double value) => value >= 100 ? Math.Round(value, 1) : Math.Round(value, 3);
}
