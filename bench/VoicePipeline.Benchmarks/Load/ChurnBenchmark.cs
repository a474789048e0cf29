using System.Text.Json;

namespace VoicePipeline.Benchmarks.Load;

/// <summary>
/// Sessions coming and going on <c>vp serve</c>'s pipeline (the load benchmark's server): connect, stream 2 s, close,
/// <c>--cycles C</c> times, 10 at a time. The server's memory (after a full collection), open handles and threads are
/// compared before and after, both measured once a warm-up round of the same churn is over, and the sessions still
/// running once the clients are gone are counted. Nothing may grow.
/// </summary>
internal sealed class ChurnBenchmark : IHotPathBenchmark
{
    private const int Concurrency = 10;
    private const double SessionSeconds = 2;

    public string Name => "churn";

    public async Task<int> RunAsync(bool json, string[] args)
    {
        LoadArgs.RejectUnknown("churn", args, ["--cycles", "--gc"], []);
        var cycles = (int)(LoadArgs.Double(args, "--cycles") ?? 200);
        if (cycles < 1)
        {
            Console.Error.WriteLine("churn: --cycles 1 or more");
            return 2;
        }
        if (await GcChoice.EnsureAsync(LoadArgs.String(args, "--gc") ?? "datas") is { } exitCode)
            return exitCode;

        var audio = await LoadAudio.LoadAsync();
        await using var server = await LoadServer.StartAsync(maxSessions: 100, keepLogs: 16);
        using var clients = HelperProcess.StartClients(audio);
        var timeout = TimeSpan.FromSeconds(60 + cycles * SessionSeconds);

        // A warm-up round: code compiled, pools and caches at their working size.
        await clients.SendAsync($"churn {2 * Concurrency} {Concurrency} {SessionSeconds} {server.Url}", timeout);
        var (rss, handles, threads) = await SettleAsync(server);
        var managed = GC.GetTotalMemory(forceFullCollection: false) / 1048576.0;
        LoadBenchmark.Progress($"after the warm-up: RSS {rss:F1} MiB, {handles} handles, {threads} threads");
        var kinds = ProcessMetrics.HandleKinds();

        var churn = await clients.SendAsync($"churn {cycles} {Concurrency} {SessionSeconds} {server.Url}", timeout);
        var leftover = await server.WaitIdleAsync(TimeSpan.FromSeconds(10));
        var (rssAfter, handlesAfter, threadsAfter) = await SettleAsync(server);
        var managedAfter = GC.GetTotalMemory(forceFullCollection: false) / 1048576.0;
        var grown = ProcessMetrics.HandleKinds().Select(k => (k.Key, Change: k.Value - kinds.GetValueOrDefault(k.Key))).Where(k => k.Change != 0);
        LoadBenchmark.Progress("handles that changed: " + string.Join(", ", grown.Select(k => $"{k.Key} {k.Change:+0;-0}")));
        var failed = churn.GetProperty("failed").GetDouble() + churn.GetProperty("closed_early").GetDouble();
        if (failed > 0)
            LoadBenchmark.Progress($"{failed} cycle(s) failed or were closed by the server");

        var result = new Dictionary<string, object?>
        {
            ["cycles"] = cycles,
            ["rss_growth_mib"] = Math.Round(rssAfter - rss, 2),
            ["handle_growth"] = handlesAfter - handles,
            ["thread_growth"] = threadsAfter - threads,
            ["leftover_sessions"] = leftover,
            ["failed_cycles"] = failed,
            ["managed_heap_growth_mib"] = Math.Round(managedAfter - managed, 2),
        };
        SoakBenchmark.Print(json, "Churn: sessions connecting, streaming 2 s and closing, 10 at a time", result);
        return 0;
    }

    /// <summary>Waits for the sessions to end and the sockets to close, collects garbage, then reads memory, handles and threads.</summary>
    private static async Task<(double Rss, int Handles, int Threads)> SettleAsync(LoadServer server)
    {
        await server.WaitIdleAsync(TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(3));
        ProcessMetrics.Settle();
        await Task.Delay(TimeSpan.FromSeconds(1));
        return (ProcessMetrics.RssMiB(), ProcessMetrics.Handles(), ProcessMetrics.Threads());
    }
}
