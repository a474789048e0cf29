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
    public async Task An_http_url_is_transcribed_by_the_embedded_emulator_as_together_would()
    {
        // A one-file HTTP server on loopback: the URL goes to the server, which fetches it (no upload).
        var audio = await File.ReadAllBytesAsync(Sample);
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var requests = 0;
        using var stop = new CancellationTokenSource();
        var serving = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var client = await listener.AcceptTcpClientAsync(stop.Token);
                Interlocked.Increment(ref requests);
                var stream = client.GetStream();
                var request = new List<byte>();
                var buffer = new byte[4096];
                while (!System.Text.Encoding.ASCII.GetString([.. request]).Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var read = await stream.ReadAsync(buffer, stop.Token);
                    if (read == 0)
                        break;
                    request.AddRange(buffer.AsSpan(0, read));
                }
                await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: {audio.Length}\r\nConnection: close\r\n\r\n"), stop.Token);
                await stream.WriteAsync(audio, stop.Token);
            }
        });
        var url = $"http://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}/sense-and-sensibility.wav";

        var result = await CliRunner.RunAsync("transcribe", url, "--format", "text");
        await stop.CancelAsync();
        await serving.ContinueWith(_ => { }, TaskScheduler.Default);

        result.ExitCode.Should().Be(0, result.Stderr);
        requests.Should().BeGreaterThan(0, "the emulator fetched the URL");
        result.Stdout.Should().Contain("amiable");
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
