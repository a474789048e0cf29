using VoicePipeline.Benchmarks;

// Usage: dotnet run -c Release --project bench/VoicePipeline.Benchmarks -- <name> [--json]
// The load benchmarks' clients and emulator run in processes of their own: this executable with a hidden verb.
if (args.Length > 0 && args[0] == VoicePipeline.Benchmarks.Load.LoadClient.Verb)
    return await VoicePipeline.Benchmarks.Load.LoadClient.RunAsync(args[1..]);
if (args.Length > 0 && args[0] == VoicePipeline.Benchmarks.Load.LoadEmulator.Verb)
    return await VoicePipeline.Benchmarks.Load.LoadEmulator.RunAsync(args[1..]);

var benchmarks = BenchmarkCatalog.All().ToDictionary(b => b.Name, StringComparer.OrdinalIgnoreCase);
if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var benchmark))
{
    Console.Error.WriteLine($"usage: VoicePipeline.Benchmarks <{string.Join('|', benchmarks.Keys)}> [--json]");
    return 2;
}

var json = args.Contains("--json", StringComparer.Ordinal);
try
{
    return await benchmark.RunAsync(json, args.Skip(1).Where(a => a != "--json").ToArray());
}
catch (ArgumentException exception)
{
    Console.Error.WriteLine(exception.Message);
    return 2;
}
