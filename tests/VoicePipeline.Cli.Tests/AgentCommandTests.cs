using System.Text.Json;
using VoicePipeline.Audio;
using VoicePipeline.Tests.Shared;
using VoicePipeline.Together.Emulator;

namespace VoicePipeline.Cli.Tests;

public class AgentCommandTests
{
    private const int Rate = 16_000;

    [Fact]
    public async Task Two_questions_print_a_user_and_a_bot_line_per_turn_in_order_then_the_context()
    {
        var first = TestAudio.Speak("What is two plus three?");
        var second = TestAudio.Speak("Tell me about the weather please.");
        // Three seconds between the questions: the first turn's transcript has 2.2 s after the VAD's stop to arrive before
        // the user speaks again (a later one keeps the turn open and both questions become one, as they should).
        var input = TestAudio.WriteWav(TestAudio.TempPath(".wav"), TestAudio.Concat(first, TestAudio.Silence(3), second, TestAudio.Silence(3)), Rate);
        var secondStart = (first.Length / (double)Rate) + 3;

        // Real time: turn-taking depends on the reply being played while the input goes on.
        var result = await CliRunner.RunAsync("agent", input, "--json", "--system-prompt", "Be brief.");

        result.ExitCode.Should().Be(0, result.Stderr);
        var lines = result.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        lines.Select(l => l.GetProperty("type").GetString()).Should().Equal(["user", "bot", "user", "bot", "context"], result.Stdout);
        var users = lines.Where(l => l.GetProperty("type").GetString() == "user").ToList();
        var bots = lines.Where(l => l.GetProperty("type").GetString() == "bot").ToList();
        users.Should().OnlyContain(u => u.GetProperty("text").GetString()!.Length > 0);
        users[0].GetProperty("start").GetDouble().Should().BeInRange(0, 0.35);
        users[0].GetProperty("end").GetDouble().Should().BeApproximately(first.Length / (double)Rate, 0.4);
        users[1].GetProperty("start").GetDouble().Should().BeApproximately(secondStart, 0.4);
        users[1].GetProperty("end").GetDouble().Should().BeGreaterThan(users[1].GetProperty("start").GetDouble());
        bots.Should().OnlyContain(b => b.GetProperty("text").GetString()!.StartsWith("You said", StringComparison.Ordinal), "the emulator echoes");
        bots[1].GetProperty("interrupted").GetBoolean().Should().BeFalse("nothing follows the last reply");

        var messages = lines[^1].GetProperty("messages").EnumerateArray().ToList();
        messages.Select(m => m.GetProperty("role").GetString()).Should().Equal("system", "user", "assistant", "user", "assistant");
        messages[0].GetProperty("content").GetString().Should().Be("Be brief.");
        messages.Where(m => m.GetProperty("role").GetString() == "user").Select(m => m.GetProperty("content").GetString())
            .Should().Equal(users.Select(u => u.GetProperty("text").GetString()));
        messages.Where(m => m.GetProperty("role").GetString() == "assistant").Select(m => m.GetProperty("content").GetString())
            .Should().Equal(bots.Select(b => b.GetProperty("text").GetString()), "the context records what was played out");
    }

    [Fact]
    public async Task The_output_wav_holds_the_bots_speech_on_the_inputs_timeline()
    {
        var question = TestAudio.Speak("What is two plus three?");
        var samples = TestAudio.Concat(TestAudio.Silence(0.5), question, TestAudio.Silence(8)); // room for the reply even on a loaded machine
        var input = TestAudio.WriteWav(TestAudio.TempPath(".wav"), samples, Rate);
        var output = TestAudio.TempPath(".wav");

        var result = await CliRunner.RunAsync("agent", input, "-o", output);

        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stdout.Should().Contain("bot: You said");
        var written = TestAudio.Decode(output);
        var inputSeconds = samples.Length / (double)Rate;
        (written.Length / (double)Rate).Should().BeApproximately(inputSeconds, inputSeconds * 0.1);
        // Silence while the user speaks, the bot's speech after the turn ends.
        var questionEnd = (int)((0.5 + (question.Length / (double)Rate)) * Rate);
        Pcm.Rms(written.AsSpan(0, questionEnd)).Should().BeLessThan(0.0015, "the bot is silent while the user asks");
        Pcm.Rms(written.AsSpan(questionEnd)).Should().BeGreaterThan(0.01, "the reply is in the file");
    }

    [Fact]
    public async Task Runs_fast_and_prints_a_readable_transcript()
    {
        var input = TestAudio.WriteWav(TestAudio.TempPath(".wav"), TestAudio.Concat(TestAudio.Speak("What is two plus three?"), TestAudio.Silence(1.5)), Rate);

        var result = await CliRunner.RunAsync("agent", input, "--fast", "--voice", "am_adam", "--stop-secs", "0.5");

        result.ExitCode.Should().Be(0, result.Stderr);
        result.StdoutLines.Should().HaveCount(2, result.Stdout);
        result.StdoutLines[0].Should().StartWith("user [");
        result.StdoutLines[1].Should().StartWith("bot: You said");
    }

    [Fact]
    public async Task Fast_mode_gives_the_same_turns_as_real_time_one_reply_each()
    {
        string[] sentences = ["What is two plus three?", "Tell me about the weather please.", "Where is the nearest station?"];
        var parts = new List<short[]>();
        foreach (var sentence in sentences)
        {
            parts.Add(TestAudio.Speak(sentence));
            parts.Add(TestAudio.Silence(5)); // room for the reply in real time, even with a slow STT on a busy machine
        }
        var input = TestAudio.WriteWav(TestAudio.TempPath(".wav"), TestAudio.Concat([.. parts]), Rate);
        var output = TestAudio.TempPath(".wav");

        var fast = await CliRunner.RunAsync("agent", input, "--fast", "--json", "-o", output);
        var live = await CliRunner.RunAsync("agent", input, "--json");

        fast.ExitCode.Should().Be(0, fast.Stderr);
        live.ExitCode.Should().Be(0, live.Stderr);
        var fastLines = fast.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var liveLines = live.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        string[] expected = ["user", "bot", "user", "bot", "user", "bot", "context"];
        fastLines.Select(l => l.GetProperty("type").GetString()).Should().Equal(expected, "one user line per sentence and one reply per turn: " + fast.Stdout);
        liveLines.Select(l => l.GetProperty("type").GetString()).Should().Equal(expected, live.Stdout);
        var fastUsers = fastLines.Where(l => l.GetProperty("type").GetString() == "user").ToList();
        var liveUsers = liveLines.Where(l => l.GetProperty("type").GetString() == "user").ToList();
        fastUsers.Select(u => u.GetProperty("text").GetString()).Should().Equal(liveUsers.Select(u => u.GetProperty("text").GetString()), "the same turns, only faster");
        fastUsers.Should().OnlyContain(u => u.GetProperty("text").GetString()!.Length > 0);
        for (var i = 0; i < fastUsers.Count; i++)
        {
            fastUsers[i].GetProperty("start").GetDouble().Should().BeApproximately(liveUsers[i].GetProperty("start").GetDouble(), 0.05, "the same speech");
            fastUsers[i].GetProperty("end").GetDouble().Should().BeApproximately(liveUsers[i].GetProperty("end").GetDouble(), 0.05, "the same speech");
        }
        fastLines.Where(l => l.GetProperty("type").GetString() == "bot").Should().OnlyContain(
            b => !b.GetProperty("interrupted").GetBoolean() && b.GetProperty("text").GetString()!.StartsWith("You said", StringComparison.Ordinal),
            "no reply is cut by the next sentence arriving early");

        // The bot's speech on the input's timeline: each reply after its question, before the next one begins.
        var written = TestAudio.Decode(output);
        var inputSeconds = parts.Sum(p => p.Length) / (double)Rate;
        (written.Length / (double)Rate).Should().BeApproximately(inputSeconds, inputSeconds * 0.15);
        var firstQuestionEnd = parts[0].Length;
        Pcm.Rms(written.AsSpan(0, firstQuestionEnd)).Should().BeLessThan(0.0015, "the bot is silent while the user asks");
        Pcm.Rms(written.AsSpan(firstQuestionEnd, parts[1].Length)).Should().BeGreaterThan(0.01, "the first reply follows its question");
    }

    [Fact]
    public async Task A_spoken_request_calls_a_tool_of_an_mcp_server_and_the_bot_answers_from_its_result()
    {
        var server = Path.Combine(AppContext.BaseDirectory.Replace("VoicePipeline.Cli.Tests", "VoicePipeline.McpTestServer", StringComparison.Ordinal), "VoicePipeline.McpTestServer.dll");
        File.Exists(server).Should().BeTrue(server);
        // PocketSphinx hears "what is the weather like ..." in this espeak-ng question; the server has a tool named "weather".
        var input = TestAudio.WriteWav(TestAudio.TempPath(".wav"), TestAudio.Concat(TestAudio.Speak("What is the weather like today?"), TestAudio.Silence(2)), Rate);

        var result = await CliRunner.RunAsync("agent", input, "--fast", "--json", "--mcp", $"dotnet \"{server}\"");

        result.ExitCode.Should().Be(0, result.Stderr);
        var lines = result.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        lines.Select(l => l.GetProperty("type").GetString()).Should().Equal(["user", "function_call", "function_result", "bot", "context"], result.Stdout);
        lines[0].GetProperty("text").GetString().Should().Contain("weather");
        lines[1].GetProperty("name").GetString().Should().Be("weather");
        lines[1].GetProperty("arguments").ValueKind.Should().Be(JsonValueKind.Object);
        lines[2].GetProperty("name").GetString().Should().Be("weather");
        lines[2].GetProperty("result").GetRawText().Should().Contain("sunny and 21 degrees", "the MCP server's answer");
        lines[3].GetProperty("text").GetString().Should().StartWith("weather returned").And.Contain("sunny and 21", "the reply speaks the result");
        lines[3].GetProperty("interrupted").GetBoolean().Should().BeFalse();

        var messages = lines[^1].GetProperty("messages").EnumerateArray().ToList();
        messages.Select(m => m.GetProperty("role").GetString()).Should().Equal("system", "user", "assistant", "tool", "assistant");
        messages[2].GetProperty("tool_calls").EnumerateArray().Single().GetProperty("name").GetString().Should().Be("weather");
        messages[3].GetProperty("name").GetString().Should().Be("weather");
        messages[4].GetProperty("content").GetString().Should().Be(lines[3].GetProperty("text").GetString(), "the context records what was played out");
    }

    [Theory]
    [InlineData("--llm-base-url", "not a url")]
    [InlineData("--stop-secs", "-3")]
    [InlineData("-o", "reply.mp3")]
    public async Task A_rejected_argument_fails_without_printing_a_key(string option, string value)
    {
        var input = TestAudio.WriteWav(TestAudio.TempPath(".wav"), TestAudio.Silence(0.5), Rate);

        var result = await CliRunner.RunAsync("agent", input, option, value, "--api-key", "sk-secret-stt-0451", "--llm-api-key", "sk-secret-llm-0452");

        result.ExitCode.Should().Be(2, result.Stderr);
        result.Stderr.Should().StartWith("vp: ");
        (result.Stdout + result.Stderr).Should().NotContain("sk-secret").And.NotContain("0451").And.NotContain("0452");
    }

    [Fact]
    public async Task An_mcp_server_that_cannot_start_is_named_without_its_arguments()
    {
        var input = TestAudio.WriteWav(TestAudio.TempPath(".wav"), TestAudio.Silence(0.5), Rate);

        var result = await CliRunner.RunAsync("agent", input, "--fast", "--mcp", "no-such-mcp-server --token sk-secret-mcp-0454");

        result.ExitCode.Should().Be(2, result.Stderr);
        result.Stderr.Should().Contain("--mcp: no-such-mcp-server").And.NotContain("sk-secret").And.NotContain("   at ");
    }

    [Fact]
    public async Task A_wrong_llm_key_fails_clearly_without_printing_it()
    {
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { ApiKey = "the-right-key" });
        var input = TestAudio.WriteWav(TestAudio.TempPath(".wav"), TestAudio.Concat(TestAudio.Speak("What is two plus three?"), TestAudio.Silence(1.5)), Rate);

        var result = await CliRunner.RunAsync("agent", input, "--fast", "--base-url", emulator.BaseUrl.ToString(), "--api-key", "the-right-key",
            "--llm-api-key", "sk-wrong-llm-0453");

        (result.Stdout + result.Stderr).Should().NotContain("sk-wrong-llm-0453").And.NotContain("the-right-key").And.NotContain("   at ");
        result.Stderr.Should().Contain("401");
    }
}
