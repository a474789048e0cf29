using System.Globalization;
using System.Text.Json;
using VoicePipeline.Together.Emulator;
using VoicePipeline.Together.Emulator.Recognition;
using VoicePipeline.Together.Emulator.Synthesis;

namespace VoicePipeline.Benchmarks.Load;

/// <summary>
/// The load benchmarks' Together server, in its own process (the hidden verb <c>load-emulator</c>): the emulator with a
/// scripted recognizer (a transcript per commit), a tone synthesizer and no session recording. A real deployment's
/// STT, LLM and TTS servers are not in the agent's process either, so the server's CPU, memory and garbage collections
/// are the framework's alone (the emulator still shares the machine's cores). It prints <c>{"url":..}</c> once started;
/// then commands come on stdin, one per line, each answered on stdout: <c>stats</c> (the audio its realtime endpoint
/// received, in 20 ms frames, and its CPU); end of input exits.
/// </summary>
internal static class LoadEmulator
{
    public const string Verb = "load-emulator";

    public static async Task<int> RunAsync(string[] args)
    {
        var keepLogs = int.Parse(args[Array.IndexOf(args, "--keep-logs") + 1], CultureInfo.InvariantCulture);
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions
        {
            Recognizer = new ScriptedRecognizerFactory(),
            SpeechSynthesizer = new ToneSpeechSynthesizer(),
            MaxLoggedRequests = keepLogs,
        }).ConfigureAwait(false);
        Reply(new Dictionary<string, object> { ["url"] = emulator.BaseUrl.ToString() });
        string? line;
        while ((line = await Console.In.ReadLineAsync().ConfigureAwait(false)) is not null && line != "exit")
        {
            Reply(line.Trim() == "stats"
                ? new Dictionary<string, object>
                {
                    ["frames"] = emulator.RealtimeSessions.Sum(s => s.AudioBytesReceived) / LoadAudio.MessageBytes,
                    ["cpu_ms"] = ProcessMetrics.Cpu().TotalMilliseconds,
                }
                : new Dictionary<string, object> { ["error"] = "unknown command " + line });
        }
        return 0;
    }

    private static void Reply(Dictionary<string, object> reply)
    {
        Console.Out.WriteLine(JsonSerializer.Serialize(reply));
        Console.Out.Flush();
    }
}
