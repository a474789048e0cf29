using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using VoicePipeline.Vad;
using VoicePipeline.Vad.Silero;

namespace VoicePipeline.Benchmarks;

/// <summary>
/// Silero VAD per 32 ms window: one stream through the analyzer, the bare <c>session.Run</c> on prebuilt tensors (the
/// physical limit), and 32 streams sharing inferences through the batcher (asynchronously, as VadProcessors do), with
/// the bytes allocated per window; for the breakdown also one bare batched <c>Run</c> of 32 windows on one thread.
/// </summary>
internal sealed class VadBenchmark : IHotPathBenchmark
{
    private const int Windows = 3_000;
    private const int Streams = 32;

    public string Name => "vad";

    public Task<int> RunAsync(bool json, string[] args)
    {
        var model = SileroVadModel.Shared;
        var window = Enumerable.Range(0, 512).Select(i => (short)(3000 * Math.Sin(i * 0.1))).ToArray();

        // Raw: the session on prebuilt tensors.
        var input = new float[576];
        var state = new float[256];
        var output = new float[1];
        var stateN = new float[256];
        using var inputValue = OrtValue.CreateTensorValueFromMemory(input, [1, 576]);
        using var stateValue = OrtValue.CreateTensorValueFromMemory(state, [2, 1, 128]);
        using var rate = OrtValue.CreateTensorValueFromMemory(new long[] { 16000 }, []);
        using var outputValue = OrtValue.CreateTensorValueFromMemory(output, [1, 1]);
        using var stateNValue = OrtValue.CreateTensorValueFromMemory(stateN, [2, 1, 128]);
        using var runOptions = new RunOptions();
        string[] inputNames = ["input", "state", "sr"];
        string[] outputNames = ["output", "stateN"];
        OrtValue[] inputs = [inputValue, stateValue, rate];
        OrtValue[] outputs = [outputValue, stateNValue];
        double Raw()
        {
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < Windows; i++)
                model.Session.Run(runOptions, inputNames, inputs, outputNames, outputs);
            return Stopwatch.GetElapsedTime(start).TotalMicroseconds / Windows;
        }

        using var analyzer = new SileroVadAnalyzer(model);
        var results = new VadWindow[4];
        double Single()
        {
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < Windows; i++)
                analyzer.Analyze(window, results);
            return Stopwatch.GetElapsedTime(start).TotalMicroseconds / Windows;
        }

        // The floor for batching: one bare Run over 32 windows on prebuilt tensors.
        var batchInput = new float[Streams * 576];
        var batchState = new float[2 * Streams * 128];
        using var batchInputValue = OrtValue.CreateTensorValueFromMemory(batchInput, [Streams, 576]);
        using var batchStateValue = OrtValue.CreateTensorValueFromMemory(batchState, [2, Streams, 128]);
        using var batchOutputValue = OrtValue.CreateTensorValueFromMemory(new float[Streams], [Streams, 1]);
        using var batchStateNValue = OrtValue.CreateTensorValueFromMemory(new float[2 * Streams * 128], [2, Streams, 128]);
        OrtValue[] batchInputs = [batchInputValue, batchStateValue, rate];
        OrtValue[] batchOutputs = [batchOutputValue, batchStateNValue];
        double RawBatched()
        {
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < Windows / Streams; i++)
                model.Session.Run(runOptions, inputNames, batchInputs, outputNames, batchOutputs);
            return Stopwatch.GetElapsedTime(start).TotalMicroseconds / (Windows / Streams * Streams);
        }

        using var batcher = new SileroVadBatcher(model);
        var analyzers = Enumerable.Range(0, Streams).Select(_ => new SileroVadAnalyzer(model, batcher)).ToArray();
        var scratch = Enumerable.Range(0, Streams).Select(_ => new VadWindow[4]).ToArray();
        // 32 streams with audio queued, as VadProcessors behind a backlog: each hands in its next window as soon as the
        // last one is scored, on the thread pool.
        var perStream = Windows / 4;
        async Task Stream(int s)
        {
            for (var i = 0; i < perStream; i++)
                await analyzers[s].AnalyzeAsync(window, scratch[s]);
        }
        long allocated = 0;
        double Batched()
        {
            var bytes = GC.GetTotalAllocatedBytes(precise: true);
            var start = Stopwatch.GetTimestamp();
            Task.WaitAll(Enumerable.Range(0, Streams).Select(s => Task.Run(() => Stream(s))));
            var elapsed = Stopwatch.GetElapsedTime(start).TotalMicroseconds / (Streams * perStream);
            allocated += GC.GetTotalAllocatedBytes(precise: true) - bytes;
            return elapsed;
        }

        Raw();
        Single();
        RawBatched();
        Batched(); // warm up all four
        var (warmBatches, warmWindows) = batcher.Statistics;
        allocated = 0;
        double raw = double.MaxValue, single = double.MaxValue, rawBatched = double.MaxValue, batched = double.MaxValue, unsplit = double.MaxValue;
        const int Rounds = 5;
        for (var round = 0; round < Rounds; round++) // interleaved, so a slow spell of the machine hits all four; best of five
        {
            raw = Math.Min(raw, Raw());
            single = Math.Min(single, Single());
            rawBatched = Math.Min(rawBatched, RawBatched());
            batched = Math.Min(batched, Batched());
            batcher.SplitLargeBatches = false;
            unsplit = Math.Min(unsplit, Batched());
            batcher.SplitLargeBatches = true;
        }
        var bytesPerWindow = (double)allocated / (2 * Rounds * Streams * perStream);
        var (batches, windows) = batcher.Statistics;
        batches -= warmBatches;
        windows -= warmWindows;
        foreach (var a in analyzers)
            a.Dispose();

        BenchmarkReport.Print(json, "Silero VAD v6, 16 kHz, 512-sample windows", [
            ("single_us_per_window", single),
            ("raw_ort_us_per_window", raw),
            ("batched_streams", Streams),
            ("batched_us_per_stream_window", batched),
            ("batched_one_core_us_per_stream_window", unsplit),
            ("raw_ort_batched_us_per_stream_window", rawBatched),
            ("batched_bytes_allocated_per_window", bytesPerWindow),
        ], $"single/raw {single / raw:F2} (goal <= 1.15); batched/raw {batched / raw:F2} (goal <= 0.5); "
            + $"batched without splitting across cores/raw {unsplit / raw:F2}; one bare Run of 32 windows/raw {rawBatched / raw:F2}; "
            + $"mean batch {(double)windows / batches:F1} windows");
        return Task.FromResult(0);
    }
}
