using System.Text.Json;
using VoicePipeline.Audio;
using VoicePipeline.Tests.Shared;

namespace VoicePipeline.Cli.Tests;

public class AudioCommandTests
{
    private static readonly Lazy<string> s_mp3 = new(() =>
        TestAudio.Encode(TestAudio.Speak("Testing one two three.", 22050), 22050, TestAudio.TempPath(".mp3"), 1, "-ac", "2", "-ar", "44100"));

    [Fact]
    public async Task Info_prints_the_documented_json()
    {
        var result = await CliRunner.RunAsync("info", s_mp3.Value, "--json");

        result.ExitCode.Should().Be(0, result.Stderr);
        var json = JsonDocument.Parse(result.Stdout).RootElement;
        json.GetProperty("format").GetString().Should().Be("mp3");
        json.GetProperty("codec").GetString().Should().Be("mp3");
        json.GetProperty("sample_rate").GetInt32().Should().Be(44100);
        json.GetProperty("channels").GetInt32().Should().Be(2);
        json.GetProperty("duration").GetDouble().Should().BeGreaterThan(1);
    }

    [Fact]
    public async Task Convert_writes_pcm_wav_at_the_requested_rate_and_channels()
    {
        var output = TestAudio.TempPath(".wav");

        var result = await CliRunner.RunAsync("convert", s_mp3.Value, output, "--rate", "16000", "--channels", "1");

        result.ExitCode.Should().Be(0, result.Stderr);
        using var reader = WavReader.Open(output);
        reader.Format.Should().Be(new WavFormat(16000, 1, 16, false));
        var info = await AudioFile.ProbeAsync(s_mp3.Value);
        reader.Duration.TotalSeconds.Should().BeApproximately(info.Duration, 0.1);
    }

    [Fact]
    public async Task Convert_of_a_corrupt_file_leaves_no_output()
    {
        var input = TestAudio.TempPath(".flac");
        await File.WriteAllTextAsync(input, "definitely not flac");
        var output = TestAudio.TempPath(".wav");

        var result = await CliRunner.RunAsync("convert", input, output);

        result.ExitCode.Should().Be(2);
        result.Stderr.Should().StartWith("vp: " + input);
        File.Exists(output).Should().BeFalse();
        // Only this output's temporary file: other tests' vp processes write theirs into the same directory meanwhile.
        Directory.GetFiles(Path.GetDirectoryName(output)!, $".{Path.GetFileName(output)}.*.tmp").Should().BeEmpty();
    }

    [Fact]
    public async Task Vad_prints_speech_segments_by_audio_time()
    {
        var speech = TestAudio.Concat(TestAudio.Silence(1), TestAudio.Speak("First sentence here.", 16000), TestAudio.Silence(1.5), TestAudio.Speak("And a second one.", 16000), TestAudio.Silence(1));
        var path = TestAudio.Encode(speech, 16000, TestAudio.TempPath(".ogg"), 1, "-c:a", "libvorbis");

        var result = await CliRunner.RunAsync("vad", path, "--json", "--stop-secs", "0.5");

        result.ExitCode.Should().Be(0, result.Stderr);
        var json = JsonDocument.Parse(result.Stdout).RootElement;
        json.GetProperty("duration").GetDouble().Should().BeApproximately(speech.Length / 16000.0, 0.05);
        var segments = json.GetProperty("segments").EnumerateArray().ToList();
        segments.Should().HaveCount(2);
        segments[0].GetProperty("start").GetDouble().Should().BeApproximately(1.0, 0.3);
    }

    [Fact]
    public async Task Help_lists_the_commands()
    {
        var result = await CliRunner.RunAsync("--help");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Contain("stream").And.Contain("vad").And.Contain("info").And.Contain("convert").And.Contain("emulator");
    }
}
