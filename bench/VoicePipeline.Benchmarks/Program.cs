using VoicePipeline.Benchmarks;

// Usage: dotnet run -c Release --project bench/VoicePipeline.Benchmarks -- <name> [--json]
var benchmarks = BenchmarkCatalog.All().ToDictionary(b => b.Name, StringComparer.OrdinalIgnoreCase);
if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var benchmark))
{
    Console.Error.WriteLine($"usage: VoicePipeline.Benchmarks <{string.Join('|', benchmarks.Keys)}> [--json]");
    return 2;
}

var json = args.Contains("--json", StringComparer.Ordinal);
return await benchmark.RunAsync(json, args.Skip(1).Where(a => a != "--json").ToArray());
