using System.Text.Json;
using VoicePipeline.Cli.Infrastructure;
using VoicePipeline.Frames;
using VoicePipeline.Processors;

namespace VoicePipeline.Cli.Commands;

/// <summary>
/// Prints transcripts: on a terminal the interim text is rewritten in place and finals get their own lines; piped, only
/// finals are printed; with JSON, one object per line for both.
/// </summary>
internal sealed class TranscriptPrinter(TextWriter output, bool json, bool interactive) : FrameProcessor("printer")
{
    private bool _interimShown;

    public int Finals { get; private set; }

    protected override ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        switch (frame)
        {
            case InterimTranscriptionFrame interim when json:
                WriteJson("interim", interim.Text, interim.AudioStart, interim.AudioEnd, interim.Language);
                break;
            case InterimTranscriptionFrame interim when interactive:
                output.Write("\r\u001b[2K" + TerminalText.CleanLine(interim.Text));
                output.Flush();
                _interimShown = true;
                break;
            case TranscriptionFrame final:
                Finals++;
                if (json)
                {
                    WriteJson("final", final.Text, final.AudioStart, final.AudioEnd, final.Language);
                }
                else
                {
                    output.WriteLine((_interimShown ? "\r\u001b[2K" : "") + TerminalText.CleanLine(final.Text));
                    output.Flush();
                    _interimShown = false;
                }
                break;
        }
        return PushFrameAsync(frame, direction, cancellationToken);
    }

    private void WriteJson(string type, string text, TimeSpan? start, TimeSpan? end, string? language)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteString("type", type);
            writer.WriteString("text", text);
            WriteSeconds(writer, "start", start);
            WriteSeconds(writer, "end", end);
            if (language is null)
                writer.WriteNull("language");
            else
                writer.WriteString("language", language);
            writer.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
        output.Flush();
    }

    private static void WriteSeconds(Utf8JsonWriter writer, string name, TimeSpan? value)
    {
        if (value is { } v)
            writer.WriteNumber(name, Math.Round(v.TotalSeconds, 3));
        else
            writer.WriteNull(name);
    }
}
