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
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions
        {
            Recognizer = new ScriptedRecognizerFactory(),
            SpeechSynthesizer = new ToneSpeechSynthesizer(),
            MaxLoggedRequests = int.Parse(LoadArgs.Required(Verb, args, "--keep-logs"), CultureInfo.InvariantCulture),
        }).ConfigureAwait(false);
        HelperProcess.Reply(JsonSerializer.Serialize(new Dictionary<string, string> { ["url"] = emulator.BaseUrl.ToString() }));
        await HelperProcess.ServeCommandsAsync(parts => ValueTask.FromResult(parts[0] == "stats"
            ? JsonSerializer.Serialize(new Dictionary<string, double>
            {
                ["frames"] = emulator.RealtimeSessions.Sum(s => s.AudioBytesReceived) / LoadAudio.MessageBytes,
                ["cpu_ms"] = ProcessMetrics.Cpu().TotalMilliseconds,
            })
            : HelperProcess.UnknownCommand(parts[0]))).ConfigureAwait(false);
        return 0;
    }
}
