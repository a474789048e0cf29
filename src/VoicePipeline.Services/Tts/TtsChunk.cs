namespace VoicePipeline.Services;

/// <summary>A piece of synthesized speech: PCM s16le mono audio at <see cref="SampleRate"/>, and/or timed words.</summary>
/// <param name="Audio">The audio (may be empty when the chunk only carries words); only read before the next chunk is requested.</param>
/// <param name="SampleRate">The audio's sample rate.</param>
/// <param name="Words">Words with their position in the utterance's audio, when the provider reports them.</param>
public readonly record struct TtsChunk(ReadOnlyMemory<byte> Audio, int SampleRate, IReadOnlyList<TtsWord>? Words = null);

/// <summary>A spoken word and where it is in its utterance's audio.</summary>
/// <param name="Text">The word.</param>
/// <param name="Start">Where it starts.</param>
/// <param name="End">Where it ends.</param>
public sealed record TtsWord(string Text, TimeSpan Start, TimeSpan End);

/// <summary>Rewrites text before it is spoken (the frames that say what was spoken keep the original text).</summary>
public interface ITtsTextFilter
{
    /// <summary>Returns the text to synthesize for <paramref name="text"/>.</summary>
    string Filter(string text);
}

/// <summary>Removes Markdown an LLM writes (emphasis, headings, code marks, list bullets, links) so it is not read out.</summary>
public sealed class MarkdownTextFilter : ITtsTextFilter
{
    /// <inheritdoc />
    public string Filter(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new System.Text.StringBuilder(text.Length);
        var lineStart = true;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (lineStart && (c is '#' or '>' || (c is '-' or '+' && i + 1 < text.Length && text[i + 1] == ' ')))
            {
                while (i + 1 < text.Length && text[i + 1] is '#' or ' ')
                    i++;
                continue;
            }
            lineStart = c == '\n';
            switch (c)
            {
                case '*' or '_' or '`' or '~':
                    break;
                case '[':
                    var close = text.IndexOf("](", i, StringComparison.Ordinal);
                    var end = close < 0 ? -1 : text.IndexOf(')', close);
                    if (end > 0)
                    {
                        result.Append(text, i + 1, close - i - 1); // a link reads as its text
                        i = end;
                    }
                    else
                    {
                        result.Append(c);
                    }
                    break;
                default:
                    result.Append(c);
                    break;
            }
        }
        return result.ToString();
    }
}
