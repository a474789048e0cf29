using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using VoicePipeline.Audio;
using VoicePipeline.Cli.Infrastructure;

namespace VoicePipeline.Cli.Commands;

/// <summary><c>vp info FILE [--json]</c>: what an audio file holds.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "An audio file." };
        var json = new Option<bool>("--json") { Description = "Print {\"format\",\"codec\",\"sample_rate\",\"channels\",\"duration\"}." };
        var command = new Command("info", "Show an audio file's format, codec, sample rate, channels and duration.") { file, json };
        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async () =>
        {
            var info = await AudioFile.ProbeAsync(result.GetValue(file)!, cancellationToken).ConfigureAwait(false);
            if (result.GetValue(json))
            {
                using var stream = Console.OpenStandardOutput();
                using var writer = new Utf8JsonWriter(stream);
                writer.WriteStartObject();
                writer.WriteString("format", info.Format);
                writer.WriteString("codec", info.Codec);
                writer.WriteNumber("sample_rate", info.SampleRate);
                writer.WriteNumber("channels", info.Channels);
                writer.WriteNumber("duration", Math.Round(info.Duration, 3));
                writer.WriteEndObject();
                writer.Flush();
                stream.Write("\n"u8);
            }
            else
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"format {info.Format}, codec {info.Codec}, {info.SampleRate} Hz, {info.Channels} channel(s), {info.Duration:0.###} s"));
            }
            return CliErrors.Ok;
        }));
        return command;
    }
}
