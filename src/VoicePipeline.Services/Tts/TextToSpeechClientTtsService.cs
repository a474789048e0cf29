using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace VoicePipeline.Services;

#pragma warning disable MEAI001 // ITextToSpeechClient is experimental in Microsoft.Extensions.AI; this service is marked experimental with it.

/// <summary>
/// Text-to-speech over any Microsoft.Extensions.AI <see cref="ITextToSpeechClient"/>: each sentence is streamed with
/// <see cref="ITextToSpeechClient.GetStreamingAudioAsync"/> and its PCM audio (<c>audio/L16;rate=N</c>, <c>audio/pcm</c>,
/// or a WAV stream whose header is skipped) goes out as it arrives. The settings map to
/// <see cref="TextToSpeechOptions"/> (model, voice, language, speed).
/// </summary>
[Experimental("MEAI001")]
public sealed class TextToSpeechClientTtsService : TtsService
{
    private readonly ITextToSpeechClient _client;

    /// <summary>Creates the service over <paramref name="client"/> (not owned).</summary>
    /// <param name="client">The speech client.</param>
    /// <param name="settings">The voice, model, language and speed to ask for (null: the client's defaults).</param>
    /// <param name="name">The processor's name.</param>
    public TextToSpeechClientTtsService(ITextToSpeechClient client, TtsSettings? settings = null, string? name = null)
        : base(settings ?? new TtsSettings(), name)
        => _client = client ?? throw new ArgumentNullException(nameof(client));

    /// <summary>Gets the audio format asked for (PCM by default).</summary>
    public string AudioFormat { get; init; } = "pcm";

    /// <summary>Gets the sample rate assumed for PCM whose media type does not say.</summary>
    public int DefaultSampleRate { get; init; } = 24_000;

    /// <inheritdoc />
    protected override async IAsyncEnumerable<TtsChunk> SynthesizeAsync(string text, TtsSettings settings, string contextId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var options = new TextToSpeechOptions { ModelId = settings.Model, VoiceId = settings.Voice, Language = settings.Language, AudioFormat = AudioFormat };
        if (settings.Speed is { } speed)
            options.Speed = (float)speed;
        var headerLeft = -1; // bytes of a WAV header still to skip; -1 until the first audio says whether there is one
        var odd = (byte?)null;
        var wavRate = 0;
        await foreach (var update in _client.GetStreamingAudioAsync(text, options, cancellationToken).ConfigureAwait(false))
        {
            foreach (var content in update.Contents)
            {
                if (content is not DataContent { Data.IsEmpty: false } data)
                    continue;
                var bytes = data.Data;
                if (headerLeft < 0)
                {
                    headerLeft = WavHeaderLength(bytes.Span);
                    if (headerLeft > 0 && bytes.Length >= 28)
                        wavRate = BinaryPrimitives.ReadInt32LittleEndian(bytes.Span[24..28]); // the fmt chunk's rate
                }
                var skip = Math.Min(headerLeft, bytes.Length);
                (bytes, headerLeft) = (bytes[skip..], headerLeft - skip);
                if (odd is { } carried && !bytes.IsEmpty)
                {
                    // PCM s16 split across chunks: carry the odd byte into the next chunk.
                    var joined = new byte[bytes.Length + 1];
                    joined[0] = carried;
                    bytes.CopyTo(joined.AsMemory(1));
                    (bytes, odd) = (joined, null);
                }
                if (bytes.Length % 2 == 1)
                    (odd, bytes) = (bytes.Span[^1], bytes[..^1]);
                if (!bytes.IsEmpty)
                    yield return new TtsChunk(bytes, wavRate > 0 ? wavRate : RateOf(data.MediaType));
            }
        }
    }

    private int RateOf(string mediaType)
    {
        var at = mediaType.IndexOf("rate=", StringComparison.OrdinalIgnoreCase);
        if (at < 0)
            return DefaultSampleRate;
        var digits = mediaType.AsSpan(at + 5);
        var end = digits.IndexOfAnyExcept("0123456789");
        return int.TryParse(end < 0 ? digits : digits[..end], NumberStyles.None, CultureInfo.InvariantCulture, out var rate) ? rate : DefaultSampleRate;
    }

    /// <summary>The length of a RIFF/WAVE header up to the start of its <c>data</c> chunk, or 0 when the audio is bare PCM.</summary>
    private static int WavHeaderLength(ReadOnlySpan<byte> audio)
    {
        if (audio.Length < 12 || !audio[..4].SequenceEqual("RIFF"u8) || !audio[8..12].SequenceEqual("WAVE"u8))
            return 0;
        var position = 12;
        while (position + 8 <= audio.Length)
        {
            if (audio.Slice(position, 4).SequenceEqual("data"u8))
                return position + 8;
            position += 8 + (int)BinaryPrimitives.ReadUInt32LittleEndian(audio.Slice(position + 4, 4));
        }
        return 44;
    }
}
