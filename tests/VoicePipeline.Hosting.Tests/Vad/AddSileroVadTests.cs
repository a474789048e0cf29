using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using VoicePipeline.Frames;
using VoicePipeline.Testing;
using VoicePipeline.Tests.Shared;
using VoicePipeline.Vad;

namespace VoicePipeline.Hosting.Tests.Vad;

/// <summary><c>AddSileroVad</c>: one batcher for every session's analyzer, settings checked at start.</summary>
public sealed class AddSileroVadTests
{
    [Fact]
    public void Every_session_analyzer_shares_one_batcher_on_the_containers_clock()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddVoicePipeline().AddSileroVad(o => o.BatchMaxWait = TimeSpan.FromMilliseconds(5));
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        var factory = provider.GetRequiredService<SileroVadFactory>();

        using var first = factory.CreateAnalyzer();
        using var second = factory.CreateAnalyzer();

        first.Should().NotBeSameAs(second);
        factory.Batcher.Should().NotBeNull();
        factory.Batcher!.MaxWait.Should().Be(TimeSpan.FromMilliseconds(5));
    }

    [Fact]
    public async Task A_processor_from_the_factory_finds_the_speech_in_real_audio()
    {
        var services = new ServiceCollection();
        services.AddVoicePipeline().AddSileroVad(o => o.Batched = false);
        await using var provider = services.BuildServiceProvider();
        var audio = TestAudio.Concat(TestAudio.Silence(1), TestAudio.Speak("The quick brown fox jumps over the lazy dog."), TestAudio.Silence(1.5));
        var frames = audio.Chunk(320).Select(c => (Frame)new InputAudioRawFrame(TestAudio.ToBytes(c), 16_000)).ToList();

        var result = await FrameProcessorHarness.RunAsync(provider.GetRequiredService<SileroVadFactory>().CreateProcessor(new VadParams { StopSecs = 0.8 }), frames);

        result.DownstreamOf<UserStartedSpeakingFrame>().Should().ContainSingle();
        result.DownstreamOf<UserStoppedSpeakingFrame>().Should().ContainSingle();
    }

    [Fact]
    public void Settings_out_of_range_fail_at_start()
    {
        var services = new ServiceCollection();
        services.AddVoicePipeline().AddSileroVad(o =>
        {
            o.BatchMaxWait = TimeSpan.Zero;
            o.Params = new VadParams { Confidence = 2 };
        });
        using var provider = services.BuildServiceProvider();

        var act = () => provider.GetRequiredService<IStartupValidator>().Validate();

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().BeEquivalentTo(
            "SileroVadServiceOptions.BatchMaxWait must be more than 0 and at most 1 s; it is 00:00:00.",
            "SileroVadServiceOptions.Params.Confidence: Confidence must be between 0 and 1. (Parameter 'Confidence')\nActual value was 2.");
    }
}
