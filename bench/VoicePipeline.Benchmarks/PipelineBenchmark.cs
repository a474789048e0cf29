using System.Diagnostics;
using System.Threading.Channels;
using VoicePipeline.Frames;
using VoicePipeline.Pipelines;
using VoicePipeline.Processors;

namespace VoicePipeline.Benchmarks;

/// <summary>
/// Frames through 10 pass-through processors, beside a bare chain of 10 channels with one pass-through task per
/// stage (the physical limit of this design), measured in the same run: throughput and idle one-frame latency.
/// </summary>
internal sealed class PipelineBenchmark : IHotPathBenchmark
{
    private const int Stages = 10;
    private const int LatencySamples = 5_000;

    public string Name => "pipeline";

    public async Task<int> RunAsync(bool json, string[] args)
    {
        var frames = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 200_000;
        var audio = new byte[640]; // 20 ms of 16 kHz mono s16le
        var input = Enumerable.Range(0, frames).Select(_ => (Frame)new InputAudioRawFrame(audio, 16_000)).ToArray();

        // Warm both paths, then measure; repeat and keep the best of five to damp scheduler noise on 2 cores.
        await MeasurePipelineThroughputAsync(input[..(frames / 10)]);
        await MeasureRawThroughputAsync(input[..(frames / 10)]);
        double pipelineFps = 0, rawFps = 0;
        for (var i = 0; i < 5; i++)
        {
            pipelineFps = Math.Max(pipelineFps, await MeasurePipelineThroughputAsync(input));
            rawFps = Math.Max(rawFps, await MeasureRawThroughputAsync(input));
        }

        var pipelineLatency = await MeasurePipelineLatencyAsync(input[0]);
        var rawLatency = await MeasureRawLatencyAsync(input[0]);

        var p50 = BenchmarkReport.PercentileMicroseconds(pipelineLatency, 50);
        var rawP50 = BenchmarkReport.PercentileMicroseconds(rawLatency, 50);
        BenchmarkReport.Print(json, $"Pipeline: {frames} audio frames through {Stages} pass-through stages", [
            ("stages", Stages),
            ("frames", frames),
            ("pipeline_frames_per_sec", pipelineFps),
            ("raw_channel_frames_per_sec", rawFps),
            ("pipeline_p50_us", p50),
            ("pipeline_p99_us", BenchmarkReport.PercentileMicroseconds(pipelineLatency, 99)),
            ("raw_p50_us", rawP50),
            ("raw_p99_us", BenchmarkReport.PercentileMicroseconds(rawLatency, 99)),
        ], $"throughput ratio {pipelineFps / rawFps:F2} (goal >= 0.5), idle p50 ratio {p50 / rawP50:F2} (goal <= 3)");
        return 0;
    }

    private static async Task<(PipelineTask Task, Pipeline Pipeline, Task Run)> StartPipelineAsync(Action<Frame> onEnd)
    {
        var pipeline = new Pipeline(Enumerable.Range(0, Stages).Select(_ => (FrameProcessor)new PassThrough()));
        var task = new PipelineTask(pipeline);
        task.FrameReachedEnd += (_, f) => onEnd(f);
        var run = task.RunAsync();
        await task.Started;
        return (task, pipeline, run);
    }

    private static async Task<double> MeasurePipelineThroughputAsync(Frame[] input)
    {
        var received = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (task, pipeline, run) = await StartPipelineAsync(f =>
        {
            if (f is InputAudioRawFrame && ++received == input.Length)
                done.TrySetResult();
        });
        var start = Stopwatch.GetTimestamp();
        foreach (var frame in input)
            await pipeline.QueueFrameAsync(frame);
        await done.Task;
        var elapsed = Stopwatch.GetElapsedTime(start);
        await task.CancelAsync();
        await run;
        return input.Length / elapsed.TotalSeconds;
    }

    private static async Task<long[]> MeasurePipelineLatencyAsync(Frame probe)
    {
        TaskCompletionSource? arrived = null;
        var (task, pipeline, run) = await StartPipelineAsync(f =>
        {
            if (f is InputAudioRawFrame)
                arrived!.TrySetResult();
        });
        var samples = new long[LatencySamples];
        for (var i = -500; i < LatencySamples; i++)
        {
            arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var start = Stopwatch.GetTimestamp();
            await pipeline.QueueFrameAsync(probe);
            await arrived.Task;
            if (i >= 0)
                samples[i] = Stopwatch.GetTimestamp() - start;
        }
        await task.CancelAsync();
        await run;
        return samples;
    }

    private static (ChannelWriter<Frame> Head, Task[] Stages) StartRawChain(Action<Frame> onEnd)
    {
        var channels = Enumerable.Range(0, Stages)
            .Select(_ => Channel.CreateUnbounded<Frame>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true }))
            .ToArray();
        var stages = new Task[Stages];
        for (var i = 0; i < Stages; i++)
        {
            var reader = channels[i].Reader;
            var next = i + 1 < Stages ? channels[i + 1].Writer : null;
            stages[i] = Task.Run(async () =>
            {
                while (await reader.WaitToReadAsync())
                {
                    while (reader.TryRead(out var frame))
                    {
                        if (next is null)
                            onEnd(frame);
                        else
                            next.TryWrite(frame);
                    }
                }
                next?.TryComplete();
            });
        }
        return (channels[0].Writer, stages);
    }

    private static async Task<double> MeasureRawThroughputAsync(Frame[] input)
    {
        var received = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (head, stages) = StartRawChain(_ =>
        {
            if (++received == input.Length)
                done.TrySetResult();
        });
        var start = Stopwatch.GetTimestamp();
        foreach (var frame in input)
            head.TryWrite(frame);
        await done.Task;
        var elapsed = Stopwatch.GetElapsedTime(start);
        head.TryComplete();
        await Task.WhenAll(stages);
        return input.Length / elapsed.TotalSeconds;
    }

    private static async Task<long[]> MeasureRawLatencyAsync(Frame probe)
    {
        TaskCompletionSource? arrived = null;
        var (head, stages) = StartRawChain(_ => arrived!.TrySetResult());
        var samples = new long[LatencySamples];
        for (var i = -500; i < LatencySamples; i++)
        {
            arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var start = Stopwatch.GetTimestamp();
            head.TryWrite(probe);
            await arrived.Task;
            if (i >= 0)
                samples[i] = Stopwatch.GetTimestamp() - start;
        }
        head.TryComplete();
        await Task.WhenAll(stages);
        return samples;
    }

    private sealed class PassThrough : FrameProcessor;
}
