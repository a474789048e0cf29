using System.Diagnostics;
using VoicePipeline.Frames;
using VoicePipeline.Testing;
using VoicePipeline.Together.Emulator;
using VoicePipeline.Together.Speech;

namespace VoicePipeline.Benchmarks;

/// <summary>
/// Text-to-speech first-audio latency through <see cref="TogetherTtsService"/> against the in-process emulator over
/// loopback, per transport: a <see cref="TtsSpeakFrame"/> into the service -> its first <see cref="TtsAudioRawFrame"/>
/// out. The physical limit beside it is the server's own time to first audio (request in -> first audio written),
/// measured by the emulator in the same run: what the service adds is the difference.
/// </summary>
internal sealed class TtsBenchmark : IHotPathBenchmark
{
    private const int Utterances = 150;
    private const string Text = "Hello, how can I help you today?";

    public string Name => "tts";

    public async Task<int> RunAsync(bool json, string[] args)
    {
        var figures = new List<(string, double)>();
        foreach (var mode in new[] { TogetherTtsMode.WebSocket, TogetherTtsMode.Sse })
        {
            var (ttfb, server) = await MeasureAsync(mode);
            // The WebSocket, the service's default, reports under the plain names; SSE under sse_*.
            var label = mode == TogetherTtsMode.WebSocket ? "" : "sse_";
            var p50 = BenchmarkReport.PercentileMicroseconds(ttfb, 50) / 1000;
            var serverMs = server.Order().ElementAt(server.Length / 2);
            figures.Add(($"{label}ttfb_ms_p50", p50));
            figures.Add(($"{label}ttfb_ms_p99", BenchmarkReport.PercentileMicroseconds(ttfb, 99) / 1000));
            figures.Add(($"{label}server_ttfb_ms_p50", serverMs));
            figures.Add(($"{label}service_overhead_ms_p50", p50 - serverMs));
        }
        BenchmarkReport.Print(json, $"Together TTS first audio through the service vs the server's own first audio ({Utterances} utterances per transport, espeak-ng emulator, loopback)",
            figures, "goal: the service adds < 2 ms to the server's time to first audio (p50)");
        return 0;
    }

    private static async Task<(long[] Ttfb, double[] ServerMs)> MeasureAsync(TogetherTtsMode mode)
    {
        await using var emulator = await TogetherEmulator.StartAsync();
        var service = new TogetherTtsService(new TogetherTtsOptions { ApiKey = "bench", BaseUrl = emulator.BaseUrl, Mode = mode }, name: "tts");
        await using var harness = await FrameProcessorHarness.StartAsync(service);
        var ttfb = new long[Utterances];
        for (var i = -10; i < Utterances; i++)
        {
            var context = $"tts-{i + 11}";
            var start = Stopwatch.GetTimestamp();
            await harness.SendAsync(new TtsSpeakFrame(Text));
            await harness.WaitForDownstreamAsync<TtsAudioRawFrame>(f => f.ContextId == context);
            var elapsed = Stopwatch.GetTimestamp() - start;
            await harness.WaitForDownstreamAsync<TtsStoppedFrame>(f => f.ContextId == context);
            if (i >= 0)
                ttfb[i] = elapsed;
        }
        await harness.EndAsync();
        var server = emulator.SpeechRequests.Skip(10).Select(r => r.FirstAudioAfter?.TotalMilliseconds ?? double.NaN).ToArray();
        return (ttfb, server);
    }
}
