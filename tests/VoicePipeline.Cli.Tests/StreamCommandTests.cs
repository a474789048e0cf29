using System.Text.Json;
using VoicePipeline.Tests.Shared;
using VoicePipeline.Together.Emulator;

namespace VoicePipeline.Cli.Tests;

public class StreamCommandTests
{
    private static string Sample => Path.Combine(CliRunner.RepositoryRoot, "samples", "sense-and-sensibility.wav");

    [Fact]
    public async Task Streams_the_sample_offline_and_prints_one_json_final_per_sentence()
    {
        var result = await CliRunner.RunAsync("stream", Sample, "--fast", "--json");

        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stderr.Should().Contain("offline").And.Contain("TOGETHER_API_KEY");
        var lines = result.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var finals = lines.Where(l => l.GetProperty("type").GetString() == "final").ToList();
        finals.Should().HaveCount(5, "the sample holds five sentences separated by a second of silence");
        finals.Select(f => f.GetProperty("start").GetDouble()).Should().BeInAscendingOrder();
        finals.Should().OnlyContain(f => f.GetProperty("end").GetDouble() > f.GetProperty("start").GetDouble());
        finals.Should().OnlyContain(f => f.GetProperty("text").GetString()!.Length > 0);
        var interims = lines.Where(l => l.GetProperty("type").GetString() == "interim").ToList();
        interims.Should().NotBeEmpty();
        interims.Should().OnlyContain(i => i.GetProperty("start").ValueKind == JsonValueKind.Number, "an interim knows where its segment began");
    }

    [Fact]
    public async Task Word_error_rate_through_the_pipeline_is_within_5_points_of_pocketsphinx_continuous()
    {
        var reference = string.Join(' ', File.ReadAllLines(Path.Combine(CliRunner.RepositoryRoot, "samples", "sense-and-sensibility.txt")));

        var streamed = await CliRunner.RunAsync("stream", Sample, "--fast", "--json");
        var pipelineText = string.Join(' ', streamed.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement)
            .Where(l => l.GetProperty("type").GetString() == "final").Select(l => l.GetProperty("text").GetString()));
        var continuous = TestAudio.Run("pocketsphinx_continuous", ["-infile", Sample, "-logfn", "/dev/null"]);

        var pipelineWer = WordErrorRate.Compute(reference, pipelineText);
        var continuousWer = WordErrorRate.Compute(reference, continuous);
        File.WriteAllText(Path.Combine(TestAudio.ScratchDirectory, "wer.txt"), $"pipeline {pipelineWer:F3} continuous {continuousWer:F3}");
        Console.WriteLine($"WER: pipeline {pipelineWer:F3}, pocketsphinx_continuous {continuousWer:F3}");

        pipelineWer.Should().BeLessThanOrEqualTo(continuousWer + 0.05, $"pipeline heard \"{pipelineText}\"; pocketsphinx_continuous heard \"{continuous}\"");
    }

    [Fact]
    public async Task A_wrong_key_is_a_fatal_error_with_a_clear_message_and_no_secret()
    {
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { ApiKey = "the-right-key" });

        var result = await CliRunner.RunAsync("stream", Sample, "--fast", "--base-url", emulator.BaseUrl.ToString(), "--api-key", "sk-wrong-0451");

        result.ExitCode.Should().NotBe(0);
        result.Stderr.Should().Contain("401").And.NotContain("sk-wrong-0451").And.NotContain("   at ");
        emulator.RealtimeSessions.Count.Should().BeInRange(1, 3);
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("random")]
    [InlineData("empty")]
    public async Task Bad_input_is_one_line_on_stderr_and_a_non_zero_exit(string kind)
    {
        var path = TestAudio.TempPath(".wav");
        if (kind == "random")
            await File.WriteAllBytesAsync(path, Enumerable.Range(0, 5000).Select(i => (byte)(i * 7919 % 251)).ToArray());
        else if (kind == "empty")
            await File.WriteAllBytesAsync(path, []);

        var result = await CliRunner.RunAsync("stream", path, "--fast");

        result.ExitCode.Should().Be(2);
        result.Stdout.Should().BeEmpty();
        result.Stderr.Trim().Split('\n').Should().ContainSingle().Which.Should().StartWith("vp: " + path);
    }
}
