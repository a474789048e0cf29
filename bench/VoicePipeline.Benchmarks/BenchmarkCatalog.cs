namespace VoicePipeline.Benchmarks;

/// <summary>A hot-path measurement that reports its figure beside the physical limit measured in the same run.</summary>
internal interface IHotPathBenchmark
{
    /// <summary>The verb on the command line.</summary>
    string Name { get; }

    /// <summary>Runs the measurement; with <paramref name="json"/>, prints one JSON line last.</summary>
    Task<int> RunAsync(bool json, string[] args);
}

internal static class BenchmarkCatalog
{
    public static IEnumerable<IHotPathBenchmark> All()
    {
        // One line per benchmark; each lives in its own file.
        yield return new PipelineBenchmark();
        yield return new ResampleBenchmark();
        yield return new VadBenchmark();
        yield return new SttBenchmark();
        yield return new TtsBenchmark();
        yield return new RecognizerBenchmark();
        yield return new WebSocketTransportBenchmark();
        yield return new TurnBenchmark();
        yield return new Load.LoadBenchmark();
        yield return new Load.SoakBenchmark();
        yield return new Load.ChurnBenchmark();
        yield break;
    }
}
