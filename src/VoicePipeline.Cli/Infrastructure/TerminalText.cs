using System.Text;

namespace VoicePipeline.Cli.Infrastructure;

/// <summary>
/// Makes text from a server (transcripts, replies, voice names, error messages) safe to print on a terminal: escape
/// sequences (CSI, OSC, DCS and the rest) go whole, and so do C0 controls but tab and newline, DEL, C1 controls and the
/// bidirectional overrides that make text read differently from what it is. JSON output needs none of this: the
/// serializer escapes every control character.
/// </summary>
internal static class TerminalText
{
    private const char Escape = '\u001b';

    /// <summary>Strips controls, keeping tabs and newlines.</summary>
    public static string Clean(string? text) => Clean(text, keepNewlines: true);

    /// <summary>Strips controls and turns line breaks into spaces: one line of output.</summary>
    public static string CleanLine(string? text) => Clean(text?.ReplaceLineEndings(" "), keepNewlines: false);

    private static string Clean(string? text, bool keepNewlines)
    {
        if (string.IsNullOrEmpty(text))
            return string.Empty;
        if (!NeedsCleaning(text))
            return text;
        var clean = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == Escape)
            {
                i = SkipEscape(text, i);
                continue;
            }
            if (c == '\u009b') // C1 CSI: like ESC [
            {
                i = SkipControlSequence(text, i + 1);
                continue;
            }
            if (c is '\u009d' or '\u0090' or '\u009e' or '\u009f') // C1 OSC, DCS, PM, APC: a string up to its terminator
            {
                i = SkipString(text, i + 1);
                continue;
            }
            if (c == '\t' || (c == '\n' && keepNewlines) || !IsControl(c))
                clean.Append(c);
        }
        return clean.ToString();
    }

    private static bool NeedsCleaning(string text)
    {
        foreach (var c in text)
        {
            if (IsControl(c) && c is not ('\t' or '\n'))
                return true;
        }
        return false;
    }

    /// <summary>C0 but tab and newline (handled by the caller), DEL, C1, and the bidirectional embeddings, overrides and isolates.</summary>
    private static bool IsControl(char c)
        => c < ' ' || c is >= '\u007f' and <= '\u009f' || c is >= '\u202a' and <= '\u202e' || c is >= '\u2066' and <= '\u2069';

    /// <summary>Skips an escape sequence starting at <paramref name="start"/> (the ESC); returns the index of its last character.</summary>
    private static int SkipEscape(string text, int start)
    {
        var next = start + 1;
        if (next >= text.Length)
            return start;
        return text[next] switch
        {
            '[' => SkipControlSequence(text, next + 1),
            ']' or 'P' or '^' or '_' or 'X' => SkipString(text, next + 1),
            // nF sequences: intermediates (0x20-0x2F) then a final byte; otherwise ESC and one character.
            >= ' ' and <= '/' => SkipIntermediates(text, next),
            _ => next,
        };
    }

    /// <summary>CSI: parameters and intermediates (0x20-0x3F), then a final byte (0x40-0x7E).</summary>
    private static int SkipControlSequence(string text, int i)
    {
        while (i < text.Length && text[i] is >= ' ' and <= '?')
            i++;
        return Math.Min(i, text.Length - 1); // the final byte (or the end of a cut-off sequence)
    }

    private static int SkipIntermediates(string text, int i)
    {
        while (i < text.Length && text[i] is >= ' ' and <= '/')
            i++;
        return Math.Min(i, text.Length - 1);
    }

    /// <summary>OSC, DCS, PM, APC, SOS: everything up to BEL, ST (ESC \) or C1 ST.</summary>
    private static int SkipString(string text, int i)
    {
        for (; i < text.Length; i++)
        {
            if (text[i] is '\u0007' or '\u009c')
                return i;
            if (text[i] == Escape && i + 1 < text.Length && text[i + 1] == '\\')
                return i + 1;
        }
        return text.Length - 1;
    }
}
