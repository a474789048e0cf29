using System.Text;

namespace VoicePipeline.Text;

/// <summary>
/// Collects streamed text (an LLM's tokens) and hands out whole sentences as soon as they end, so speech can start
/// after the first sentence instead of the whole reply. A sentence ends at <c>. ! ?</c> (and their CJK forms) followed
/// by white space, or at a line break; common abbreviations ("Dr.", "e.g.") and decimals ("3.5") do not end one.
/// </summary>
public sealed class SentenceAggregator
{
    private static readonly string[] s_abbreviations = ["mr", "mrs", "ms", "dr", "st", "jr", "sr", "vs", "etc", "e.g", "i.e", "prof", "no", "fig", "approx"];

    private readonly StringBuilder _text = new();
    private int _scanned;

    /// <summary>Gets whether text is waiting for the end of its sentence.</summary>
    public bool HasText => _text.Length > 0;

    /// <summary>Adds text; returns the sentences it completed, in order (usually none or one).</summary>
    public IReadOnlyList<string> Add(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        _text.Append(text);
        List<string>? sentences = null;
        var start = 0;
        // The last character cannot be judged yet: a '.' may be followed by a digit or more letters.
        for (var i = Math.Max(_scanned, 0); i < _text.Length - 1; i++)
        {
            if (!EndsSentenceAt(i))
                continue;
            var sentence = _text.ToString(start, i + 1 - start).Trim();
            if (sentence.Length > 0)
                (sentences ??= []).Add(sentence);
            start = i + 1;
        }
        _text.Remove(0, start);
        _scanned = Math.Max(0, _text.Length - 1);
        return sentences ?? (IReadOnlyList<string>)[];
    }

    /// <summary>Returns what is left (the end of a reply) and empties the aggregator; null when only white space is left.</summary>
    public string? Flush()
    {
        var rest = _text.ToString().Trim();
        Reset();
        return rest.Length > 0 ? rest : null;
    }

    /// <summary>Drops everything held (after an interruption).</summary>
    public void Reset()
    {
        _text.Clear();
        _scanned = 0;
    }

    private bool EndsSentenceAt(int i)
    {
        var c = _text[i];
        if (c == '\n')
            return true;
        if (c is '。' or '！' or '？')
            return true;
        if (c is not ('.' or '!' or '?') || !char.IsWhiteSpace(_text[i + 1]))
            return false;
        return c != '.' || !IsAbbreviationBefore(i);
    }

    private bool IsAbbreviationBefore(int period)
    {
        var wordStart = period;
        while (wordStart > 0 && !char.IsWhiteSpace(_text[wordStart - 1]))
            wordStart--;
        var word = _text.ToString(wordStart, period - wordStart);
        if (word.Length == 1 && char.IsUpper(word[0]))
            return true; // an initial: "J. Austen"
        return Array.Exists(s_abbreviations, a => a.Equals(word, StringComparison.OrdinalIgnoreCase));
    }
}
