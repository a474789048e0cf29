using System.Diagnostics;
using System.Runtime;
using VoicePipeline.Cli.Commands;

namespace VoicePipeline.Benchmarks.Load;

/// <summary>
/// The garbage collector the server side runs with (<c>--gc</c>): the GC mode is fixed when a process starts, so a
/// process started with another one runs itself again with the environment variables that choose it, and passes its
/// output and exit code through. <c>datas</c> (the default, what the Dockerfile sets): Server GC with dynamic adaptation
/// to application sizes; <c>server</c>: Server GC without it; <c>workstation</c>: the concurrent workstation GC.
/// </summary>
internal static class GcChoice
{
    public const string ChildMarker = "VP_LOAD_GC";

    public static readonly string[] Choices = ["datas", "server", "workstation"];

    /// <summary>Null when this process already runs with <paramref name="choice"/>; otherwise the exit code of the run with it.</summary>
    public static async Task<int?> EnsureAsync(string choice)
    {
        if (!Choices.Contains(choice))
            throw new ArgumentException($"--gc: one of {string.Join(", ", Choices)}");
        if (Environment.GetEnvironmentVariable(ChildMarker) == choice)
            return null;
        var start = HelperProcess.StartSelf(Environment.GetCommandLineArgs().Skip(1));
        start.Environment[ChildMarker] = choice;
        start.Environment["DOTNET_gcServer"] = choice == "workstation" ? "0" : "1";
        start.Environment["DOTNET_GCDynamicAdaptationMode"] = choice == "datas" ? "1" : "0";
        // As vp's runtimeconfig sets it (src/VoicePipeline.Cli/VoicePipeline.Cli.csproj): idle pool workers do not spin.
        start.Environment.TryAdd("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit", "0");
        // As the Dockerfile sets it for vp serve: socket completions, and so Kestrel's continuations, run inline.
        start.Environment.TryAdd(ServeAgent.InlineSocketCompletionsVariable, "1");
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the benchmark with the chosen GC");
        void Kill(object? sender, EventArgs e)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }
        Console.CancelKeyPress += Kill;
        AppDomain.CurrentDomain.ProcessExit += Kill;
        try
        {
            await process.WaitForExitAsync();
            return process.ExitCode;
        }
        finally
        {
            Console.CancelKeyPress -= Kill;
            AppDomain.CurrentDomain.ProcessExit -= Kill;
        }
    }

    public static string Describe()
        => GCSettings.IsServerGC
            ? $"Server GC ({(Environment.GetEnvironmentVariable("DOTNET_GCDynamicAdaptationMode") == "0" ? "DATAS off" : "DATAS")}), {Environment.ProcessorCount} cores"
            : $"workstation GC ({(GCSettings.LatencyMode == GCLatencyMode.Batch ? "non-concurrent" : "concurrent")}), {Environment.ProcessorCount} cores";
}
