using System.Text.Json;
using VoicePipeline.Tests.Shared;

namespace VoicePipeline.Cli.Tests;

public class TranscribeCommandTests
{
    private static string Sample => Path.Combine(CliRunner.RepositoryRoot, "samples", "sense-and-sensibility.wav");

    [Fact]
    public async Task Transcribe_writes_webvtt_subtitles_to_a_file()
    {
        var output = TestAudio.TempPath(".vtt");

        var result = await CliRunner.RunAsync("transcribe", Sample, "--format", "vtt", "-o", output);

        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stdout.Should().BeEmpty("the result went to the file and the progress bar is not shown when piped");
        var vtt = await File.ReadAllTextAsync(output);
        vtt.Should().StartWith("WEBVTT\n\n");
        vtt.Split("-->").Length.Should().Be(6, "five sentences, five cues");
    }

    [Fact]
    public async Task Translate_prints_verbose_json_labelled_as_a_translation()
    {
        var result = await CliRunner.RunAsync("translate", Sample, "--format", "verbose_json", "--timestamps", "word");

        result.ExitCode.Should().Be(0, result.Stderr);
        var json = JsonDocument.Parse(result.Stdout).RootElement;
        json.GetProperty("task").GetString().Should().Be("translate");
        json.GetProperty("language").GetString().Should().Be("en");
        json.GetProperty("segments").GetArrayLength().Should().Be(5);
        json.GetProperty("text").GetString().Should().Contain("amiable");
        var segments = json.GetProperty("segments").EnumerateArray().Select(g => (Start: g.GetProperty("start").GetDouble(), End: g.GetProperty("end").GetDouble())).ToList();
        var words = json.GetProperty("words").EnumerateArray().ToList();
        words.Should().HaveCountGreaterThan(40);
        words.Should().OnlyContain(w => segments.Any(g => w.GetProperty("start").GetDouble() >= g.Start - 0.05 && w.GetProperty("end").GetDouble() <= g.End + 0.05),
            "every word's time lies within a segment of the file");
    }

    [Fact]
    public async Task A_non_audio_file_fails_before_any_upload()
    {
        var path = TestAudio.TempPath(".mp3");
        await File.WriteAllTextAsync(path, "<html>not audio</html>");

        var result = await CliRunner.RunAsync("transcribe", path);

        result.ExitCode.Should().Be(2);
        result.Stderr.Trim().Should().StartWith("vp: " + path).And.NotContain("   at ");
    }
}
