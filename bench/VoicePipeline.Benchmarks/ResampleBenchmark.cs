using System.Diagnostics;
using VoicePipeline.Audio;

namespace VoicePipeline.Benchmarks;

/// <summary>48 kHz to 16 kHz, one 20 ms frame at a time, beside a plain copy of the same frame (the floor).</summary>
internal sealed class ResampleBenchmark : IHotPathBenchmark
{
    private const int Frames = 50_000;

    public string Name => "resample";

    public Task<int> RunAsync(bool json, string[] args)
    {
        var frame = Enumerable.Range(0, 960).Select(i => (short)(10000 * Math.Sin(i * 0.05))).ToArray();
        var resampler = new StreamingResampler(48_000, 16_000);
        var output = new short[resampler.GetMaxOutputLength(frame.Length)];
        var copy = new short[frame.Length];

        for (var i = 0; i < 2_000; i++) // warm up (tiered JIT)
        {
            resampler.Process(frame, output);
            frame.AsSpan().CopyTo(copy);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < Frames; i++)
            resampler.Process(frame, output);
        var resampleNs = Stopwatch.GetElapsedTime(start).TotalNanoseconds / Frames;
        var allocPerFrame = (double)(GC.GetAllocatedBytesForCurrentThread() - allocated) / Frames;

        start = Stopwatch.GetTimestamp();
        for (var i = 0; i < Frames; i++)
            frame.AsSpan().CopyTo(copy);
        var copyNs = Stopwatch.GetElapsedTime(start).TotalNanoseconds / Frames;

        BenchmarkReport.Print(json, $"Resample 48 kHz -> 16 kHz, 20 ms frames ({resampler.TapsPerPhase} taps per output sample)", [
            ("rate_in", 48_000),
            ("rate_out", 16_000),
            ("ns_per_20ms_frame", resampleNs),
            ("alloc_bytes_per_frame", allocPerFrame),
            ("copy_ns_per_20ms_frame", copyNs),
        ], $"ratio to the copy {resampleNs / copyNs:F0}x; real time allows 20,000,000 ns per frame");
        return Task.FromResult(0);
    }
}
