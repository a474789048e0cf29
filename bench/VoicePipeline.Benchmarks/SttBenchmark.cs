using System.Diagnostics;
using VoicePipeline.Frames;
using VoicePipeline.Testing;
using VoicePipeline.Together.Emulator;
using VoicePipeline.Together.Emulator.Recognition;
using VoicePipeline.Together.Realtime;

namespace VoicePipeline.Benchmarks;

/// <summary>
/// The realtime STT service against the in-process emulator over loopback: commit latency (stop frame into the service
/// -> commit out of the socket) and the per-frame cost of an append.
/// </summary>
internal sealed class SttBenchmark : IHotPathBenchmark
{
    private const int Commits = 1_000;
    private const int Bursts = 400;
    private const int FramesPerBurst = 50; // one second of audio

    public string Name => "stt";

    public async Task<int> RunAsync(bool json, string[] args)
    {
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { Recognizer = new ScriptedRecognizerFactory() });
        var service = new TogetherSttService(new TogetherSttOptions { ApiKey = "bench", BaseUrl = emulator.BaseUrl });
        long committed = 0;
        var sent = new SemaphoreSlim(0);
        service.CommitSent = t => { Volatile.Write(ref committed, t); sent.Release(); };
        await using var harness = await FrameProcessorHarness.StartAsync(service);
        while (!service.IsConnected)
            await Task.Delay(10);

        var frame = new InputAudioRawFrame(new byte[640], 16_000);
        var latencies = new long[Commits];
        for (var i = -100; i < Commits; i++)
        {
            await harness.SendAsync(frame);
            var start = Stopwatch.GetTimestamp();
            await harness.SendAsync(new UserStoppedSpeakingFrame());
            await sent.WaitAsync();
            if (i >= 0)
                latencies[i] = Volatile.Read(ref committed) - start;
        }

        // The append path itself, on this thread: convert, remember for replay, base64 into a pooled buffer, enqueue.
        // Audio arrives in real time, so the socket keeps up: each burst of a second's frames starts once it drained.
        long allocated = 0, ticks = 0;
        for (var burst = -20; burst < Bursts; burst++)
        {
            var spin = new SpinWait();
            while (service.PendingSends > 0)
                spin.SpinOnce();
            var bytes = GC.GetAllocatedBytesForCurrentThread();
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < FramesPerBurst; i++)
                service.AppendAudio(frame);
            if (burst >= 0)
            {
                ticks += Stopwatch.GetTimestamp() - start;
                allocated += GC.GetAllocatedBytesForCurrentThread() - bytes;
            }
        }
        const int appends = Bursts * FramesPerBurst;
        var appendNs = ticks * 1e9 / Stopwatch.Frequency / appends;
        var allocPerFrame = (double)allocated / appends;
        await harness.CancelAsync();

        BenchmarkReport.Print(json, "Together realtime STT against the in-process emulator (loopback)", [
            ("commit_latency_p50_us", BenchmarkReport.PercentileMicroseconds(latencies, 50)),
            ("commit_latency_p99_us", BenchmarkReport.PercentileMicroseconds(latencies, 99)),
            ("append_ns_per_frame", appendNs),
            ("append_alloc_bytes_per_frame", allocPerFrame),
        ], "goals: p99 < 2000 us, 0 bytes allocated per appended frame");
        return 0;
    }
}
