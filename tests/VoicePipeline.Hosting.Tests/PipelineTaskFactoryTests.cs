using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using VoicePipeline.Frames;
using VoicePipeline.Pipelines;
using VoicePipeline.Processors;

namespace VoicePipeline.Hosting.Tests;

/// <summary><c>AddVoicePipeline(configure)</c>: task settings configured once, copied per task, checked at start.</summary>
public sealed class PipelineTaskFactoryTests
{
    [Fact]
    public async Task Each_task_gets_a_copy_of_the_configured_settings()
    {
        var services = new ServiceCollection();
        services.AddVoicePipeline(o => o.AudioInSampleRate = 8_000);
        await using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<PipelineTaskFactory>();
        var first = new RateProbe();
        var second = new RateProbe();

        await using (var task = factory.Create(first))
        {
            await task.QueueFrameAsync(new EndFrame());
            (await task.RunAsync().WaitAsync(TimeSpan.FromSeconds(30))).Should().Be(PipelineCompletion.Ended);
        }
        await using (var task = factory.Create(second, o => o.AudioInSampleRate = 48_000))
        {
            await task.QueueFrameAsync(new EndFrame());
            (await task.RunAsync().WaitAsync(TimeSpan.FromSeconds(30))).Should().Be(PipelineCompletion.Ended);
        }

        first.Rate.Should().Be(8_000);
        second.Rate.Should().Be(48_000);
        provider.GetRequiredService<IOptions<PipelineTaskOptions>>().Value.AudioInSampleRate.Should().Be(8_000, "a task's changes stay its own");
    }

    [Fact]
    public void Task_settings_out_of_range_fail_at_start()
    {
        var services = new ServiceCollection();
        services.AddVoicePipeline(o => o.CancelTimeout = TimeSpan.Zero);
        using var provider = services.BuildServiceProvider();

        var act = () => provider.GetRequiredService<IStartupValidator>().Validate();

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().ContainSingle().Which.Should().StartWith("PipelineTaskOptions.CancelTimeout must be more than 0");
    }

    private sealed class RateProbe : FrameProcessor
    {
        public int Rate { get; private set; }

        protected override ValueTask OnStartAsync(StartFrame frame, CancellationToken cancellationToken)
        {
            Rate = frame.AudioInSampleRate;
            return ValueTask.CompletedTask;
        }
    }
}
