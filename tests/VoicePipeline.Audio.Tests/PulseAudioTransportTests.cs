using System.Diagnostics;
using VoicePipeline.Audio.Transports;
using VoicePipeline.Frames;
using VoicePipeline.Testing;
using VoicePipeline.Tests.Shared;

namespace VoicePipeline.Audio.Tests;

/// <summary>A private PulseAudio daemon with a null sink named vp_test, started for these tests and stopped after.</summary>
public sealed class PulseAudioFixture : IAsyncLifetime
{
    private readonly string _runtime = Path.Combine(TestAudio.ScratchDirectory, "pulse-" + Guid.NewGuid().ToString("N")[..8]);

    public string Server => "unix:" + Path.Combine(_runtime, "native");

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_runtime);
        var info = new ProcessStartInfo("pulseaudio") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-n", "--daemonize=yes", "--exit-idle-time=-1", "--use-pid-file=no", "--log-target=stderr",
                     "-L", "module-native-protocol-unix", "-L", "module-null-sink sink_name=vp_test rate=16000 channels=1" })
            info.ArgumentList.Add(a);
        info.Environment["PULSE_RUNTIME_PATH"] = _runtime;
        info.Environment["XDG_RUNTIME_DIR"] = _runtime;
        using var daemon = Process.Start(info)!;
        daemon.WaitForExit(TimeSpan.FromSeconds(20)); // --daemonize returns once the server is up
        TestAudio.Run("pactl", ["--server", Server, "list", "short", "sinks"]).Should().Contain("vp_test");
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        try
        {
            TestAudio.Run("pactl", ["--server", Server, "exit"]);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        return Task.CompletedTask;
    }
}

public class PulseAudioTransportTests(PulseAudioFixture pulse) : IClassFixture<PulseAudioFixture>
{
    [Fact]
    public async Task What_the_speaker_plays_the_microphone_hears_through_a_null_sink()
    {
        await using var microphone = await FrameProcessorHarness.StartAsync(
            new PulseAudioInput(new PulseAudioOptions { Server = pulse.Server, Device = "vp_test.monitor" }),
            new HarnessOptions { AudioInSampleRate = 16000 });
        await microphone.WaitForDownstreamAsync<InputAudioRawFrame>(); // recording

        var tone = Spectrum.Tone(440, 24000, 1.5, amplitude: 0.3);
        await FrameProcessorHarness.RunAsync(
            new PulseAudioOutput(new PulseAudioOptions { Server = pulse.Server, Device = "vp_test" }),
            [new OutputAudioRawFrame(TestAudio.ToBytes(tone), 24000)],
            new HarnessOptions { AudioOutSampleRate = 24000 });

        var loud = await microphone.WaitForDownstreamAsync<InputAudioRawFrame>(f => Pcm.Rms(Pcm.AsSamples(f.Audio.Span)) > 0.1);
        var heard = await CollectAsync(microphone, loud, frames: 90); // 1.8 s: the whole 1.5 s tone and some silence after
        await microphone.EndAsync();

        heard.Should().OnlyContain(f => f.SampleRate == 16000 && f.Channels == 1 && f.Duration == TimeSpan.FromMilliseconds(20));
        var tonal = heard.Select(f => Spectrum.FitTone(TestAudio.FromBytes(f.Audio.Span), 440, 16000))
            .Where(t => t.Amplitude > 0.1).ToList();
        tonal.Count.Should().BeGreaterThan(55, "about 75 frames of the 1.5 s tone arrive (a loaded machine may glitch a few)");
        tonal.Select(t => t.Amplitude).Order().ElementAt(tonal.Count / 2).Should().BeApproximately(0.3, 0.03, "the tone played at 24 kHz is heard at 16 kHz at its level");
        tonal.Count(t => t.ResidualDb < -30).Should().BeGreaterThan(tonal.Count / 2, "most frames hold a clean 440 Hz tone");
    }

    [Fact]
    public async Task Whether_a_server_answers_is_known_before_playing()
    {
        (await new PulseAudioOptions { Server = pulse.Server }.ServerAnswersAsync()).Should().BeTrue();
        (await new PulseAudioOptions { Server = "unix:/nonexistent/native" }.ServerAnswersAsync()).Should().BeFalse();
    }

    [Fact]
    public async Task A_missing_server_is_a_fatal_error()
    {
        await using var microphone = await FrameProcessorHarness.StartAsync(new PulseAudioInput(new PulseAudioOptions { Server = "unix:/nonexistent/native" }));

        var error = await microphone.WaitForUpstreamAsync<ErrorFrame>();

        error.Fatal.Should().BeTrue();
        error.Message.Should().Contain("microphone stopped");
    }

    private static async Task<List<InputAudioRawFrame>> CollectAsync(FrameProcessorHarness harness, InputAudioRawFrame first, int frames)
    {
        var all = harness.Downstream.OfType<InputAudioRawFrame>().ToList();
        var start = all.IndexOf(first);
        await harness.WaitForDownstreamAsync<InputAudioRawFrame>(f => harness.Downstream.OfType<InputAudioRawFrame>().ToList().IndexOf(f) >= start + frames);
        return harness.Downstream.OfType<InputAudioRawFrame>().Skip(start).Take(frames).ToList();
    }
}
