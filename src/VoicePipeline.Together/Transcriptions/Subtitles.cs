using System.Globalization;
using System.Text;

namespace VoicePipeline.Together.Transcriptions;

/// <summary>SRT and WebVTT rendering of verbose transcription segments (speaker labels when diarized).</summary>
public static class Subtitles
{
    /// <summary>Renders SubRip (SRT).</summary>
    public static string ToSrt(TranscriptionResult result) => Render(result, vtt: false);

    /// <summary>Renders WebVTT.</summary>
    public static string ToVtt(TranscriptionResult result) => Render(result, vtt: true);

    private static string Render(TranscriptionResult result, bool vtt)
    {
        ArgumentNullException.ThrowIfNull(result);
        var cues = result.SpeakerSegments is { Count: > 0 } speakers
            ? speakers.Select(s => (s.Start, s.End, Text: $"{s.SpeakerId}: {s.Text.Trim()}"))
            : (result.Segments ?? []).Select(s => (s.Start, s.End, Text: s.Text.Trim()));
        var text = new StringBuilder(vtt ? "WEBVTT\n\n" : "");
        var index = 1;
        foreach (var (start, end, line) in cues)
        {
            if (!vtt)
                text.Append(index.ToString(CultureInfo.InvariantCulture)).Append('\n');
            text.Append(Time(start, vtt)).Append(" --> ").Append(Time(end, vtt)).Append('\n').Append(line).Append("\n\n");
            index++;
        }
        return text.ToString();
    }

    private static string Time(double seconds, bool vtt)
    {
        var t = TimeSpan.FromMilliseconds(Math.Round(Math.Max(0, seconds) * 1000));
        return string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours:00}:{t.Minutes:00}:{t.Seconds:00}{(vtt ? '.' : ',')}{t.Milliseconds:000}");
    }
}
