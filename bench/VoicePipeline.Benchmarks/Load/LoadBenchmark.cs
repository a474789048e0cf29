using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace VoicePipeline.Benchmarks.Load;

/// <summary>
/// Live sessions one host holds: <c>vp serve</c>'s pipeline in this process (<see cref="LoadServer"/>), the clients in
/// another (<see cref="LoadClient"/>) and the emulator in a third (<see cref="LoadEmulator"/>), each session streaming a
/// recording at real time in 20 ms messages. Without <c>--sessions</c> it adds 50 sessions every 30 s until a session
/// falls behind (an input frame's lag from due at the socket to taken by the STT client over 100 ms at p99, or a session
/// closed, refused or broken), then measures the largest count that held for 60 s, opened a step at a time as the ramp
/// opened them; memory per session is (RSS then − idle RSS) / N, idle being after a warm-up. The baseline is a bare
/// Kestrel WebSocket echo stepped up the same way with the same clients.
/// </summary>
internal sealed class LoadBenchmark : IHotPathBenchmark
{
    private const double LagLimitMs = 100;
    private static readonly TimeSpan s_warmup = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_budget = TimeSpan.FromMinutes(9.5);

    public string Name => "load";

    public async Task<int> RunAsync(bool json, string[] args)
    {
        LoadArgs.RejectUnknown("load", args, ["--sessions", "--seconds", "--step", "--limit", "--measure-seconds", "--gc"], ["--no-baseline", "--allocations"]);
        int? fixedSessions = LoadArgs.String(args, "--sessions") is { } n ? int.Parse(n, CultureInfo.InvariantCulture) : null;
        var seconds = LoadArgs.String(args, "--seconds") is { } s ? double.Parse(s, CultureInfo.InvariantCulture) : fixedSessions is null ? 30 : 60;
        var step = LoadArgs.String(args, "--step") is { } st ? int.Parse(st, CultureInfo.InvariantCulture) : 50;
        var limit = LoadArgs.String(args, "--limit") is { } l ? int.Parse(l, CultureInfo.InvariantCulture) : 1000;
        var baseline = !args.Contains("--no-baseline");
        var measure = LoadArgs.String(args, "--measure-seconds") is { } m ? double.Parse(m, CultureInfo.InvariantCulture) : 60;
        if (fixedSessions is < 1 || seconds < 10 || measure < 10 || step < 1)
        {
            Console.Error.WriteLine("load: --sessions 1 or more, --seconds and --measure-seconds 10 or more, --step 1 or more");
            return 2;
        }
        if (await GcChoice.EnsureAsync(LoadArgs.String(args, "--gc") ?? "datas") is { } exitCode)
            return exitCode;

        var started = Stopwatch.StartNew();
        var audio = await LoadAudio.LoadAsync();
        await using var server = await LoadServer.StartAsync(maxSessions: 100_000);
        using var clients = HelperProcess.StartClients(audio);
        using var allocations = args.Contains("--allocations") ? new AllocationSampler() : null;
        var run = new Runner(server, clients) { Allocations = allocations };
        Progress($"{GcChoice.Describe()}; recording {audio.LoopSeconds:F1} s looped, {audio.Stops[0].Length / 3} utterances per pass, {LoadAudio.Phases} starting points");

        // A warm-up, so JIT and first-use allocations are not counted as sessions' memory.
        // Tiered compilation keeps recompiling for 20-30 s at first (per-utterance paths need time to be called often enough).
        await run.PhaseAsync(Math.Min(20, fixedSessions ?? 20), TimeSpan.FromSeconds(25), server.Url, echo: false, record: false);
        ProcessMetrics.Settle();
        await Task.Delay(2000);
        var idleRss = ProcessMetrics.RssMiB();
        Progress($"idle RSS {idleRss:F1} MiB");

        int? maxSessions = fixedSessions;
        if (fixedSessions is null)
        {
            (maxSessions, _) = await run.RampAsync(step, limit, TimeSpan.FromSeconds(seconds), server.Url, echo: false, started, s_budget - TimeSpan.FromMinutes(3.5));
            Progress($"pipeline held {maxSessions} sessions");
        }
        var measured = maxSessions > 0
            ? await run.PhaseAsync(maxSessions.Value, TimeSpan.FromSeconds(fixedSessions is null ? measure : seconds), server.Url, echo: false, record: fixedSessions is not null, openStep: step)
            : null;
        int? baselineMax = null;
        bool? baselineCut = null;
        if (baseline)
        {
            (baselineMax, baselineCut) = fixedSessions is { } count
                ? ((await run.PhaseAsync(count, TimeSpan.FromSeconds(10), server.EchoUrl, echo: true)).FellBehind ? 0 : count, false)
                : await run.RampAsync(step, limit, TimeSpan.FromSeconds(10), server.EchoUrl, echo: true, started, s_budget);
            Progress($"echo baseline held {baselineMax} sessions");
        }

        var fellBehind = measured?.FellBehind ?? true;
        var sessions = measured?.Sessions ?? 0;
        var result = new Dictionary<string, object?>
        {
            ["max_sessions"] = fixedSessions is null ? maxSessions : fellBehind ? 0 : fixedSessions,
            ["rss_mib_per_session"] = measured is null ? null : Round((measured.Rss - idleRss) / sessions),
            ["cpu_ms_per_session_second"] = measured is null ? null : Round(measured.CpuMs / sessions / measured.Seconds),
            ["frame_lag_p99_ms"] = measured is null ? null : Round(measured.FrameLagP99),
            ["event_lag_p99_ms"] = measured is null ? null : Round(measured.EventLagP99),
            ["baseline_max_sessions"] = baselineMax,
            // True when the echo's ramp ended on the run's time budget, not on a session falling behind: a lower bound.
            ["baseline_cut_by_budget"] = baselineCut,
            ["sessions_measured"] = sessions,
            ["fell_behind"] = fellBehind,
            ["dropped_frames"] = measured?.Dropped,
            ["event_lag_p50_ms"] = measured is null ? null : Round(measured.EventLagP50),
            ["client_cpu_ms_per_session_second"] = measured is null ? null : Round(measured.ClientCpuMs / sessions / measured.Seconds),
            ["emulator_cpu_ms_per_session_second"] = measured is null ? null : Round(measured.EmulatorCpuMs / sessions / measured.Seconds),
            ["client_send_late_p99_ms"] = measured is null ? null : Round(measured.ClientLateP99),
            ["idle_rss_mib"] = Round(idleRss),
            ["gc"] = GcChoice.Describe(),
            ["steps"] = run.Steps.Where(p => !p.Echo).Select(p => p.Figures(idleRss)).ToList(),
            ["baseline_steps"] = run.Steps.Where(p => p.Echo).Select(p => p.Figures(idleRss)).ToList(),
            ["run_seconds"] = Round(started.Elapsed.TotalSeconds),
        };
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(result));
        }
        else
        {
            Console.WriteLine("Load: vp serve's pipeline, clients streaming at real time in another process");
            foreach (var (key, value) in result)
            {
                if (value is not System.Collections.IEnumerable || value is string)
                    Console.WriteLine($"  {key,-34} {Convert.ToString(value, CultureInfo.InvariantCulture) ?? "-"}");
            }
            Console.WriteLine($"goals: max_sessions >= 300 on 2 cores, rss_mib_per_session <= 2, max_sessions >= baseline / 2; a session falls behind past {LagLimitMs} ms frame lag p99 or any lost audio");
        }
        return 0;
    }

    private static double Round(double value) => Math.Round(value, value >= 100 ? 1 : 3);

    internal static void Progress(string message) => Console.Error.WriteLine("load: " + message);

    /// <summary>One measured phase's figures.</summary>
    internal sealed record Phase(int Sessions, double Seconds, double FrameLagP99, double EventLagP99, double EventLagP50, double CpuMs, double ClientCpuMs,
        double ClientLateP99, double Rss, long Dropped, bool FellBehind)
    {
        public bool Echo { get; init; }

        /// <summary>Gets the emulator process's CPU over the window (it shares the machine's cores).</summary>
        public double EmulatorCpuMs { get; init; }

        /// <summary>The step's figures for the JSON line (and the plot, scripts/plot-load.py).</summary>
        public Dictionary<string, object> Figures(double idleRss) => new()
        {
            ["sessions"] = Sessions,
            ["frame_lag_p99_ms"] = Round(FrameLagP99),
            ["event_lag_p99_ms"] = Round(EventLagP99),
            ["rss_mib_per_session"] = Round((Rss - idleRss) / Sessions),
            ["cpu_ms_per_session_second"] = Round(CpuMs / Sessions / Seconds),
            ["fell_behind"] = FellBehind,
        };
    }

    /// <summary>Drives the client process against the server and reads the figures of both sides.</summary>
    internal sealed class Runner(LoadServer server, HelperProcess clients)
    {
        private static readonly TimeSpan s_commandTimeout = TimeSpan.FromMinutes(2);
        private (long Batches, long Windows) _vadBefore;
        private (TimeSpan Pause, int Gen0, int Gen2) _gcBefore;
        private readonly List<(long Pending, int Threads)> _poolSamples = [];
        private Timer? _sampler;

        public AllocationSampler? Allocations { get; init; }

        private long PoolQueue(int percentile)
        {
            lock (_poolSamples)
                return _poolSamples.Count == 0 ? 0 : BenchmarkReport.Percentile(_poolSamples.Select(s => s.Pending), percentile);
        }

        private int PoolThreads()
        {
            lock (_poolSamples)
                return _poolSamples.Count == 0 ? 0 : _poolSamples.Max(s => s.Threads);
        }

        /// <summary>Gets every ramp step and measured phase so far, in order.</summary>
        public List<Phase> Steps { get; } = [];

        /// <summary>Opens <paramref name="sessions"/> (<paramref name="openStep"/> at a time), lets them stream for <paramref name="length"/>, measures after the warm-up, closes them.</summary>
        public async Task<Phase> PhaseAsync(int sessions, TimeSpan length, Uri url, bool echo, bool record = true, int openStep = int.MaxValue)
        {
            var seenBefore = server.FramesSeen;
            var emulatorBefore = (await server.EmulatorStatsAsync()).Frames;
            var opened = true;
            for (var open = 0; open < sessions; open += openStep)
            {
                // Opened as the ramp opens them: a step at a time, each settling before the next.
                opened &= await OpenAsync(Math.Min(openStep, sessions - open), url);
                await Task.Delay(s_warmup);
            }
            var window = await StartWindowAsync(echo);
            await Task.Delay(length - s_warmup);
            var phase = await EndWindowAsync(window, sessions, echo, opened);
            var close = await clients.SendAsync("close", s_commandTimeout);
            var left = await server.WaitIdleAsync(TimeSpan.FromSeconds(30));
            long dropped = 0;
            if (!echo)
            {
                var sent = close.GetProperty("sent").GetInt64();
                var reached = Math.Min(server.FramesSeen - seenBefore, await server.SettledEmulatorFramesAsync() - emulatorBefore);
                dropped = Math.Max(0, sent - reached) + (long)close.GetProperty("closed_early").GetDouble() + (long)close.GetProperty("failed").GetDouble();
            }
            if (left > 0)
                Progress($"{left} session(s) still running 30 s after the clients closed");
            phase = phase with { Dropped = dropped, FellBehind = phase.FellBehind || dropped > 0 };
            Report(phase, echo);
            if (record)
                Steps.Add(phase);
            return phase;
        }

        /// <summary>
        /// Adds <paramref name="step"/> sessions every <paramref name="stepLength"/> until one falls behind; returns the
        /// count that held, and whether the ramp stopped on <paramref name="budget"/> (or the limit) before any fell behind.
        /// </summary>
        public async Task<(int Held, bool Cut)> RampAsync(int step, int limit, TimeSpan stepLength, Uri url, bool echo, Stopwatch started, TimeSpan budget)
        {
            var held = 0;
            var cut = true;
            for (var sessions = step; sessions <= limit; sessions += step)
            {
                if (started.Elapsed + stepLength > budget)
                {
                    Progress($"stopping the ramp at {held}: the run's time budget is spent");
                    break;
                }
                var opened = await OpenAsync(step, url);
                await Task.Delay(s_warmup);
                var window = await StartWindowAsync(echo);
                await Task.Delay(stepLength - s_warmup);
                var phase = await EndWindowAsync(window, sessions, echo, opened);
                Report(phase, echo);
                Steps.Add(phase);
                if (phase.FellBehind)
                {
                    cut = false;
                    break;
                }
                held = sessions;
            }
            await clients.SendAsync("close", s_commandTimeout);
            await server.WaitIdleAsync(TimeSpan.FromSeconds(30));
            return (held, cut);
        }

        private async Task<bool> OpenAsync(int count, Uri url)
        {
            var reply = await clients.SendAsync($"open {count} {url}", s_commandTimeout);
            var opened = reply.GetProperty("opened").GetInt32();
            if (opened < count)
                Progress($"opened {opened} of {count} sessions ({reply.GetProperty("refused").GetInt32()} refused, {reply.GetProperty("failed").GetInt32()} failed)");
            return opened == count;
        }

        private async Task<(long Start, TimeSpan Cpu, double ClientCpu, double ClosedEarly, double Failed, TimeSpan EmulatorCpu)> StartWindowAsync(bool echo)
        {
            var stats = await clients.SendAsync("stats", s_commandTimeout); // resets the clients' windows
            (echo ? server.EchoLag : server.FrameLag).Reset();
            _vadBefore = server.VadBatcher.Statistics;
            _gcBefore = (GC.GetTotalPauseDuration(), GC.CollectionCount(0), GC.CollectionCount(2));
            _poolSamples.Clear();
            _sampler ??= new Timer(_ => { lock (_poolSamples) _poolSamples.Add((ThreadPool.PendingWorkItemCount, ThreadPool.ThreadCount)); }, null, 50, 50);
            var emulatorCpu = (await server.EmulatorStatsAsync()).Cpu;
            return (Stopwatch.GetTimestamp(), ProcessMetrics.Cpu(), stats.GetProperty("cpu_ms").GetDouble(), stats.GetProperty("closed_early").GetDouble(), stats.GetProperty("failed").GetDouble(), emulatorCpu);
        }

        private async Task<Phase> EndWindowAsync((long Start, TimeSpan Cpu, double ClientCpu, double ClosedEarly, double Failed, TimeSpan EmulatorCpu) window, int sessions, bool echo, bool opened)
        {
            var cpu = ProcessMetrics.Cpu() - window.Cpu;
            var emulatorCpu = (await server.EmulatorStatsAsync()).Cpu - window.EmulatorCpu;
            var lag = echo ? server.EchoLag : server.FrameLag;
            var frameLag = lag.Percentile(99);
            var rss = ProcessMetrics.RssMiB();
            var stats = await clients.SendAsync("stats", s_commandTimeout);
            var seconds = Stopwatch.GetElapsedTime(window.Start).TotalSeconds;
            var vad = server.VadBatcher.Statistics;
            if (Allocations is { } sampler)
                Progress("allocated most: " + string.Join(", ", sampler.TakeTop(25).Select(t => FormattableString.Invariant($"{t.Type} {t.MiB / seconds:F2} MiB/s"))));
            if (!echo && vad.Batches > _vadBefore.Batches)
                Progress(FormattableString.Invariant($"VAD: {(vad.Windows - _vadBefore.Windows) / seconds:F0} windows/s in batches of {(double)(vad.Windows - _vadBefore.Windows) / (vad.Batches - _vadBefore.Batches):F1} on average"));
            Progress(FormattableString.Invariant($"GC: {GC.CollectionCount(0) - _gcBefore.Gen0} collections ({GC.CollectionCount(2) - _gcBefore.Gen2} gen2), paused {(GC.GetTotalPauseDuration() - _gcBefore.Pause).TotalMilliseconds / seconds:F1} ms/s; frame lag p50/p90 {lag.Percentile(50):F1}/{lag.Percentile(90):F1} ms; pool queue p50/p99/max {PoolQueue(50)}/{PoolQueue(99)}/{PoolQueue(100)}, threads max {PoolThreads()}; finals {stats.GetProperty("event_lags").GetDouble():F0} timed, {stats.GetProperty("unmatched_finals").GetDouble():F0} not matched to a stop"));
            var last = GC.GetGCMemoryInfo(GCKind.Ephemeral);
            Progress(FormattableString.Invariant($"last gen{last.Generation} GC: paused {last.PauseDurations[0].TotalMilliseconds:F1} ms, promoted {last.PromotedBytes / 1048576.0:F1} MiB, {last.PinnedObjectsCount} pinned objects, heap {last.HeapSizeBytes / 1048576.0:F0} MiB, gen0 budget {last.GenerationInfo[0].SizeBeforeBytes / 1048576.0:F1} MiB"));
            var broken = stats.GetProperty("closed_early").GetDouble() - window.ClosedEarly + stats.GetProperty("failed").GetDouble() - window.Failed;
            return new Phase(sessions, seconds, frameLag, stats.GetProperty("event_lag_p99_ms").GetDouble(), stats.GetProperty("event_lag_p50_ms").GetDouble(),
                cpu.TotalMilliseconds, stats.GetProperty("cpu_ms").GetDouble() - window.ClientCpu, stats.GetProperty("late_p99_ms").GetDouble(), rss,
                (long)broken, !opened || broken > 0 || frameLag > LagLimitMs || lag.Count == 0) { Echo = echo, EmulatorCpuMs = emulatorCpu.TotalMilliseconds };
        }

        private static void Report(Phase phase, bool echo)
            => Progress(FormattableString.Invariant(
                $"{(echo ? "echo" : "pipeline")} {phase.Sessions} sessions: frame lag p99 {phase.FrameLagP99:F1} ms, event lag p50/p99 {phase.EventLagP50:F0}/{phase.EventLagP99:F0} ms, server CPU {phase.CpuMs / phase.Seconds / 10:F1} % of a core ({phase.CpuMs / phase.Sessions / phase.Seconds:F2} ms per session-second), clients {phase.ClientCpuMs / phase.Seconds / 10:F1} %, emulator {phase.EmulatorCpuMs / phase.Seconds / 10:F1} %, client send late p99 {phase.ClientLateP99:F1} ms, RSS {phase.Rss:F0} MiB{(phase.Dropped > 0 ? $", {phase.Dropped} frames dropped or sessions broken" : "")}{(phase.FellBehind ? ": FELL BEHIND" : "")}"));
    }
}
