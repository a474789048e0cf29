using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using VoicePipeline.Vad;
using VoicePipeline.Vad.Silero;

namespace VoicePipeline.Benchmarks;

/// <summary>
/// Silero VAD per 32 ms window: one stream through the analyzer, the bare <c>session.Run</c> on prebuilt tensors (the
/// physical limit), and 32 streams sharing inferences through the batcher; for the breakdown also the bare batched
/// <c>Run</c> of 32 windows on one thread and the cost of the 32-thread driver alone.
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

        Raw();
        Single(); // warm up both
        double raw = double.MaxValue, single = double.MaxValue;
        for (var round = 0; round < 3; round++) // interleaved, best of three
        {
            raw = Math.Min(raw, Raw());
            single = Math.Min(single, Single());
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
        var rawBatched = double.MaxValue;
        for (var round = 0; round < 3; round++)
        {
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < Windows / Streams * 4; i++)
                model.Session.Run(runOptions, inputNames, batchInputs, outputNames, batchOutputs);
            rawBatched = Math.Min(rawBatched, Stopwatch.GetElapsedTime(start).TotalMicroseconds / (Windows / Streams * 4 * Streams));
        }

        using var batcher = new SileroVadBatcher(model);
        var analyzers = Enumerable.Range(0, Streams).Select(_ => new SileroVadAnalyzer(model, batcher)).ToArray();
        // 32 live streams each deliver a window per 32 ms, so their windows are pending together: a barrier per window
        // models that, one blocked thread per stream (Analyze blocks until the batch ran). Its cost is included in the
        // figure, and also measured alone (the same threads and barrier without the analyzer) for the breakdown.
        var perStream = Windows / 4;
        double Drive(Action<int> analyze)
        {
            using var barrier = new Barrier(Streams);
            var threads = Enumerable.Range(0, Streams).Select(s => new Thread(() =>
            {
                for (var i = 0; i < perStream; i++)
                {
                    barrier.SignalAndWait();
                    analyze(s);
                }
            })).ToArray();
            var start = Stopwatch.GetTimestamp();
            foreach (var t in threads)
                t.Start();
            foreach (var t in threads)
                t.Join();
            return Stopwatch.GetElapsedTime(start).TotalMicroseconds / (Streams * perStream);
        }
        var scratch = Enumerable.Range(0, Streams).Select(_ => new VadWindow[4]).ToArray();
        var batched = Drive(s => analyzers[s].Analyze(window, scratch[s]));
        var (batches, windows) = batcher.Statistics;
        var driver = Drive(_ => { });
        foreach (var a in analyzers)
            a.Dispose();

        BenchmarkReport.Print(json, "Silero VAD v6, 16 kHz, 512-sample windows", [
            ("single_us_per_window", single),
            ("raw_ort_us_per_window", raw),
            ("batched_streams", Streams),
            ("batched_us_per_stream_window", batched),
            ("raw_ort_batched_us_per_stream_window", rawBatched),
            ("batched_driver_us_per_stream_window", driver),
        ], $"single/raw {single / raw:F2} (goal <= 1.15); batched/raw {batched / raw:F2} (goal <= 0.5); bare batched Run/raw {rawBatched / raw:F2}; "
            + $"32 threads and barrier alone/raw {driver / raw:F2}; mean batch {(double)windows / batches:F1} windows");
        return Task.FromResult(0);
    }
}
