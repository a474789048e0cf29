using System.Text.Json;
using VoicePipeline.Audio;
using VoicePipeline.Tests.Shared;
using VoicePipeline.Together.Emulator;

namespace VoicePipeline.Cli.Tests;

public class SpeakCommandTests
{
    private const string Key = "sk-cli-speak-8e1f";

    [Theory]
    [InlineData("rest")]
    [InlineData("sse")]
    [InlineData("websocket")]
    public async Task Speak_writes_the_servers_audio_as_a_24_khz_wav_in_every_mode(string mode)
    {
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { ApiKey = Key });
        var output = TestAudio.TempPath(".wav");

        var result = await CliRunner.RunAsync("speak", "The quick brown fox.", "-o", output, "--mode", mode, "--voice", "am_adam",
            "--base-url", emulator.BaseUrl.ToString(), "--api-key", Key);

        result.ExitCode.Should().Be(0, result.Stderr);
        using var wav = WavReader.Open(output);
        wav.Format.Should().Be(new WavFormat(24_000, 1, 16, false));
        var samples = new short[wav.DataLength / 2];
        for (var read = 0; read < samples.Length;)
            read += wav.Read(samples.AsSpan(read)) is > 0 and var n ? n : throw new EndOfStreamException();
        Pcm.AsBytes(samples).ToArray().Should().Equal(emulator.Synthesize("The quick brown fox.", "hexgrad/Kokoro-82M", "am_adam"));
    }

    [Fact]
    public async Task Speak_offline_uses_the_embedded_emulator_and_honours_the_sample_rate()
    {
        var output = TestAudio.TempPath(".wav");

        var result = await CliRunner.RunAsync("speak", "Offline speech at sixteen kilohertz.", "-o", output, "--sample-rate", "16000");

        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stderr.Should().Contain("emulator");
        var info = await AudioFile.ProbeAsync(output);
        info.SampleRate.Should().Be(16_000);
        info.Channels.Should().Be(1);
        info.Duration.Should().BeInRange(1.0, 5.0);
    }

    [Fact]
    public async Task A_failure_exits_non_zero_with_the_servers_message_and_leaves_no_file()
    {
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { ApiKey = Key });
        emulator.Options.SpeechFaults.FailMidStreamAfterChunks = 2;
        var output = TestAudio.TempPath(".wav");

        var result = await CliRunner.RunAsync("speak", "This will break half way through the audio.", "-o", output, "--mode", "sse",
            "--base-url", emulator.BaseUrl.ToString(), "--api-key", Key);

        result.ExitCode.Should().Be(1);
        result.Stderr.Should().StartWith("vp: ").And.Contain("failed").And.NotContain("   at ");
        File.Exists(output).Should().BeFalse();
        Directory.GetFiles(Path.GetDirectoryName(output)!, $".{Path.GetFileName(output)}*").Should().BeEmpty();
    }

    [Fact]
    public async Task A_wrong_key_is_reported_without_the_key()
    {
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { ApiKey = Key });
        var output = TestAudio.TempPath(".wav");

        var result = await CliRunner.RunAsync("speak", "Hi.", "-o", output, "--base-url", emulator.BaseUrl.ToString(), "--api-key", "sk-wrong-4471");

        result.ExitCode.Should().Be(1);
        result.Stderr.Should().Contain("Invalid API key").And.NotContain("sk-wrong-4471");
        File.Exists(output).Should().BeFalse();
    }

    [Fact]
    public async Task Voices_lists_models_and_voices_as_json()
    {
        var result = await CliRunner.RunAsync("voices", "--json");

        result.ExitCode.Should().Be(0, result.Stderr);
        var data = JsonDocument.Parse(result.Stdout).RootElement.GetProperty("data").EnumerateArray().ToList();
        data.Select(m => m.GetProperty("model").GetString()).Should().Contain("hexgrad/Kokoro-82M");
        data.SelectMany(m => m.GetProperty("voices").EnumerateArray()).Select(v => v.GetProperty("id").GetString()).Should().Contain(["af_heart", "tara"]);
    }
}
