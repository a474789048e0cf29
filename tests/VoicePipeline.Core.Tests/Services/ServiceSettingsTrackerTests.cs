using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using VoicePipeline.Frames;
using VoicePipeline.Processors;
using VoicePipeline.Services;

namespace VoicePipeline.Core.Tests.Services;

public class ServiceSettingsTrackerTests
{
    [Fact]
    public void Only_the_properties_a_delta_sets_change_and_each_change_is_logged_at_debug()
    {
        var tracker = new ServiceSettingsTracker<TtsSettings>(new TtsSettings { Voice = "af_heart", Model = "kokoro", Speed = 1.0 });
        var logger = new FakeLogger();
        var service = new Named("tts");

        var changes = tracker.Apply(new TtsUpdateSettingsFrame { Voice = "am_adam", Speed = 1.0 }, service, logger);

        changes.Should().ContainSingle().Which.Should().Be(new SettingChange("Voice", "af_heart", "am_adam"));
        tracker.Current.Should().Be(new TtsSettings { Voice = "am_adam", Model = "kokoro", Speed = 1.0 });
        logger.Collector.GetSnapshot().Should().ContainSingle(r => r.Level == LogLevel.Debug && r.Message.Contains("Voice") && r.Message.Contains("am_adam"));
    }

    [Fact]
    public void An_update_with_a_target_applies_only_to_that_service_by_name_or_instance()
    {
        var first = new Named("stt-a");
        var second = new Named("stt-b");
        var byName = new SttUpdateSettingsFrame { Language = "fr", TargetName = "stt-b" };
        var byInstance = new SttUpdateSettingsFrame(new SttSettings { Model = "m2" }) { TargetService = first };
        var everyone = new SttUpdateSettingsFrame { Prompt = "p" };

        byName.Targets(first).Should().BeFalse();
        byName.Targets(second).Should().BeTrue();
        byInstance.Targets(first).Should().BeTrue();
        byInstance.Targets(second).Should().BeFalse();
        everyone.IsBroadcast.Should().BeTrue();
        everyone.Targets(first).Should().BeTrue();

        var tracker = new ServiceSettingsTracker<SttSettings>(new SttSettings { Model = "m1", Language = "en" });
        tracker.Apply(byName, first, new FakeLogger()).Should().BeEmpty();
        tracker.Apply(byInstance, first, new FakeLogger()).Should().ContainSingle(c => c.Name == "Model");
        tracker.Current.Should().Be(new SttSettings { Model = "m2", Language = "en" });
    }

    [Fact]
    public void Object_initializers_build_the_typed_delta()
    {
        var llm = new LlmUpdateSettingsFrame { Model = "new", Temperature = 0.2, MaxTokens = 50 };
        llm.Settings.Should().Be(new LlmSettings { Model = "new", Temperature = 0.2, MaxTokens = 50 });
        llm.Model.Should().Be("new");

        var changes = new List<SettingChange>();
        new LlmSettings { Model = "old", Temperature = 0.2 }.Apply(llm.Settings, changes);
        changes.Select(c => c.Name).Should().Equal("Model", "MaxTokens"); // the temperature did not change
    }

    private sealed class Named(string name) : FrameProcessor(name);
}
