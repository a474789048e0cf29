using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using VoicePipeline.Cli.Infrastructure;
using VoicePipeline.Tests.Shared;

namespace VoicePipeline.Cli.Tests;

/// <summary>
/// Text from a server never drives the terminal: a server that answers with escape sequences (a title change, a
/// screen clear, colours, a hyperlink) and bidirectional overrides gets them stripped in human-readable output, while
/// JSON output stays exact.
/// </summary>
public sealed class TerminalOutputTests
{
    private const string Key = "sk-terminal-test";
    private const string Hostile = "he\u001b]0;owned\u0007llo \u001b[2J\u001b[31mred\u001b[0m \u009b1mbold\u202eevil\u202c \u001b]8;;http://x\u001b\\link\u001b]8;;\u001b\\ end\r\u0008\u007f";

    [Theory]
    [InlineData("plain text", "plain text")]
    [InlineData("tab\tand\nnewline kept", "tab\tand\nnewline kept")]
    [InlineData("\u001b[31mred\u001b[0m", "red")]
    [InlineData("title\u001b]0;owned\u0007 after", "title after")]
    [InlineData("st\u001b]0;owned\u001b\\ terminated", "st terminated")]
    [InlineData("c1 \u009b2J csi", "c1  csi")]
    [InlineData("bidi \u202eoverride\u202c", "bidi override")]
    [InlineData("bell\u0007 back\u0008 del\u007f cr\r", "bell back del cr")]
    [InlineData("cut off \u001b[", "cut off ")]
    [InlineData("cut off osc \u001b]0;never ends", "cut off osc ")]
    [InlineData("ü日本語 ok", "ü日本語 ok")]
    public void Clean_strips_escape_sequences_and_controls_but_keeps_text(string input, string expected)
        => TerminalText.Clean(input).Should().Be(expected);

    [Fact]
    public void CleanLine_turns_line_breaks_into_spaces()
        => TerminalText.CleanLine("one\ntwo\r\nthree\u001b[K").Should().Be("one two three");

    [Fact]
    public async Task Voices_transcripts_and_error_messages_from_a_server_are_printed_without_controls_and_json_stays_exact()
    {
        using var server = HostileServer.Start();
        var wav = TestAudio.WriteWav(TestAudio.TempPath(".wav"), TestAudio.Speak("hello"), 16_000);

        var voices = await CliRunner.RunAsync("voices", "--base-url", server.BaseUrl, "--api-key", Key);
        var voicesJson = await CliRunner.RunAsync("voices", "--json", "--base-url", server.BaseUrl, "--api-key", Key);
        var transcript = await CliRunner.RunAsync("transcribe", wav, "--base-url", server.BaseUrl, "--api-key", Key);
        var failure = await CliRunner.RunAsync("speak", "hi", "-o", TestAudio.TempPath(".wav"), "--base-url", server.BaseUrl, "--api-key", Key);

        voices.ExitCode.Should().Be(0, voices.Stderr);
        voices.Stdout.Should().Contain("hello red boldevil link end").And.NotContainAny("\u001b", "\u009b", "\u0007", "\u202e", "\r");
        voicesJson.ExitCode.Should().Be(0, voicesJson.Stderr);
        using (var json = JsonDocument.Parse(voicesJson.Stdout))
            json.RootElement.GetProperty("data")[0].GetProperty("voices")[0].GetProperty("id").GetString().Should().Be(Hostile, "JSON carries the exact text, escaped");
        transcript.ExitCode.Should().Be(0, transcript.Stderr);
        transcript.Stdout.Should().Be("hello red boldevil link end\n");
        failure.ExitCode.Should().NotBe(0);
        failure.Stderr.Should().Contain("hello red boldevil link end").And.NotContainAny("\u001b", "\u009b", "\u0007", "\u202e");
    }

    /// <summary>A Together-shaped server on loopback whose every text is <see cref="Hostile"/>.</summary>
    private sealed class HostileServer : IDisposable
    {
        private readonly HttpListener _listener = new();

        private HostileServer()
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            BaseUrl = $"http://127.0.0.1:{port}/v1";
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            _ = Task.Run(LoopAsync);
        }

        public string BaseUrl { get; }

        public static HostileServer Start() => new();

        public void Dispose() => _listener.Close();

        private async Task LoopAsync()
        {
            while (true)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception exception) when (exception is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
                await context.Request.InputStream.CopyToAsync(Stream.Null);
                var path = context.Request.Url!.AbsolutePath;
                var (status, body) = path switch
                {
                    _ when path.EndsWith("/voices", StringComparison.Ordinal) => (200, new { data = new[] { new { model = "model\u001b[1m", voices = new[] { new { id = Hostile, name = Hostile } } } } } as object),
                    _ when path.EndsWith("/audio/transcriptions", StringComparison.Ordinal) => (200, new { text = Hostile }),
                    _ => (400, new { error = new { message = Hostile, type = "invalid_request_error", code = "hostile" } }),
                };
                var bytes = JsonSerializer.SerializeToUtf8Bytes(body);
                context.Response.StatusCode = status;
                context.Response.ContentType = "application/json";
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        }
    }
}
