using System.Diagnostics;
using VoicePipeline.Audio;

namespace VoicePipeline.Benchmarks;

/// <summary>
/// 48 kHz to 16 kHz, one 20 ms frame at a time, beside a plain copy of the same frame (the floor); in the same run,
/// NAudio's WDL resampler in three configurations (the <c>wdl_*</c> fields; the README compares their quality).
/// </summary>
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

        var (resampleNs, allocPerFrame) = Measure(() => resampler.Process(frame, output));

        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < Frames; i++)
            frame.AsSpan().CopyTo(copy);
        var copyNs = Stopwatch.GetElapsedTime(start).TotalNanoseconds / Frames;

        // NAudio's WDL: its default windowed sinc (64 taps), a 256-tap sinc (as good as ours in the stop band), and the
        // linear interpolation after two IIR filters that NAudio's WdlResamplingSampleProvider uses.
        var wdl = new[] { 64, 256, 0 }.Select(taps =>
        {
            var w = new WdlResamplerAdapter(48_000, 16_000, taps);
            var wdlOutput = new short[w.GetMaxOutputLength(frame.Length)];
            for (var i = 0; i < 2_000; i++)
                w.Process(frame, wdlOutput);
            return Measure(() => w.Process(frame, wdlOutput));
        }).ToArray();

        BenchmarkReport.Print(json, $"Resample 48 kHz -> 16 kHz, 20 ms frames ({resampler.TapsPerPhase} taps per output sample)", [
            ("rate_in", 48_000),
            ("rate_out", 16_000),
            ("ns_per_20ms_frame", resampleNs),
            ("alloc_bytes_per_frame", allocPerFrame),
            ("copy_ns_per_20ms_frame", copyNs),
            ("wdl_sinc64_ns_per_20ms_frame", wdl[0].Ns),
            ("wdl_sinc64_alloc_bytes_per_frame", wdl[0].Alloc),
            ("wdl_sinc256_ns_per_20ms_frame", wdl[1].Ns),
            ("wdl_sinc256_alloc_bytes_per_frame", wdl[1].Alloc),
            ("wdl_linear_ns_per_20ms_frame", wdl[2].Ns),
            ("wdl_linear_alloc_bytes_per_frame", wdl[2].Alloc),
        ], $"ratio to the copy {resampleNs / copyNs:F0}x; real time allows 20,000,000 ns per frame; "
           + $"WDL sinc 64 / 256 / linear at {wdl[0].Ns / resampleNs:F2}x / {wdl[1].Ns / resampleNs:F2}x / {wdl[2].Ns / resampleNs:F2}x the project's time");
        return Task.FromResult(0);
    }

    /// <summary>Nanoseconds and bytes allocated per call of <paramref name="process"/>, over <see cref="Frames"/> calls.</summary>
    private static (double Ns, double Alloc) Measure(Func<int> process)
    {
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < Frames; i++)
            process();
        var ns = Stopwatch.GetElapsedTime(start).TotalNanoseconds / Frames;
        return (ns, (double)(GC.GetAllocatedBytesForCurrentThread() - allocated) / Frames);
    }
}
