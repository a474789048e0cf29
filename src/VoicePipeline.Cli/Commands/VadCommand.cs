using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using VoicePipeline.Audio;
using VoicePipeline.Cli.Infrastructure;
using VoicePipeline.Vad;
using VoicePipeline.Vad.Silero;

namespace VoicePipeline.Cli.Commands;

/// <summary><c>vp vad FILE</c>: where the speech is, by the audio times at which it began and ended.</summary>
internal static class VadCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "An audio file in any supported format." };
        var json = new Option<bool>("--json") { Description = "Print {\"duration\",\"segments\":[{\"start\",\"end\"}]}." };
        var confidence = new Option<double>("--confidence") { DefaultValueFactory = _ => 0.7, Description = "Speech probability threshold." };
        var startSecs = new Option<double>("--start-secs") { DefaultValueFactory = _ => 0.2, Description = "Speech needed to start a segment." };
        var stopSecs = new Option<double>("--stop-secs") { DefaultValueFactory = _ => 0.2, Description = "Silence needed to end a segment." };
        var command = new Command("vad", "Find the speech segments of a file with Silero VAD.") { file, json, confidence, startSecs, stopSecs };
        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async () =>
        {
            var parameters = new VadParams { Confidence = result.GetValue(confidence), StartSecs = result.GetValue(startSecs), StopSecs = result.GetValue(stopSecs) }.Validate();
            var audio = await AudioFile.ReadMonoAsync(result.GetValue(file)!, 16_000, cancellationToken).ConfigureAwait(false);
            using var analyzer = new SileroVadAnalyzer();
            analyzer.Configure(16_000, 1);
            var machine = new VadStateMachine(parameters, analyzer.WindowDuration);
            var windows = new VadWindow[analyzer.GetMaxWindows(audio.Length)];
            var count = analyzer.Analyze(audio, windows);
            var segments = new List<(double Start, double End)>();
            double? start = null;
            foreach (var window in windows.AsSpan(0, count))
            {
                if (machine.Update(window) is not { } t)
                    continue;
                var at = (t.Timestamp - TimeSpan.FromSeconds(t.WaitedSecs)).TotalSeconds;
                if (t.Speaking)
                    start = at;
                else if (start is { } s)
                    (segments, start) = ([.. segments, (s, at)], null);
            }
            var duration = audio.Length / 16_000.0;
            if (start is { } open)
                segments.Add((open, duration)); // speech that runs to the end of the file

            if (result.GetValue(json))
            {
                using var stream = Console.OpenStandardOutput();
                using var writer = new Utf8JsonWriter(stream);
                writer.WriteStartObject();
                writer.WriteNumber("duration", Math.Round(duration, 3));
                writer.WriteStartArray("segments");
                foreach (var (s, e) in segments)
                {
                    writer.WriteStartObject();
                    writer.WriteNumber("start", Math.Round(s, 3));
                    writer.WriteNumber("end", Math.Round(e, 3));
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
                writer.WriteEndObject();
                writer.Flush();
                stream.Write("\n"u8);
            }
            else
            {
                foreach (var (s, e) in segments)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s,8:0.000} - {e,8:0.000}"));
            }
            return CliErrors.Ok;
        }));
        return command;
    }
}
