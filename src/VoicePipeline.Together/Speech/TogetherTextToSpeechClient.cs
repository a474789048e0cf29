using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace VoicePipeline.Together.Speech;

#pragma warning disable MEAI001 // ITextToSpeechClient is experimental in Microsoft.Extensions.AI; we implement it knowingly.

/// <summary>
/// Microsoft.Extensions.AI's <see cref="ITextToSpeechClient"/> over Together's speech API. Whole responses come from
/// <c>POST /audio/speech</c> in <see cref="TextToSpeechOptions.AudioFormat"/> (<c>wav</c> by default, <c>mp3</c>,
/// <c>raw</c>/<c>pcm</c> for 24 kHz PCM s16le, <c>mulaw</c>); streaming responses are server-sent events of PCM s16le.
/// </summary>
[Experimental("MEAI001")]
public sealed class TogetherTextToSpeechClient : ITextToSpeechClient
{
    private const string PcmMediaType = "audio/L16;rate=24000;channels=1";

    private readonly TogetherSpeechClient _client;
    private readonly string _model;
    private readonly string _voice;

    /// <summary>Creates the client over <paramref name="client"/> (not owned).</summary>
    public TogetherTextToSpeechClient(TogetherSpeechClient client, string model = TogetherTtsOptions.DefaultModel, string voice = TogetherTtsOptions.DefaultVoice)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _model = model;
        _voice = voice;
    }

    /// <inheritdoc />
    public async Task<TextToSpeechResponse> GetAudioAsync(string text, TextToSpeechOptions? options = null, CancellationToken cancellationToken = default)
    {
        var request = Request(text, options);
        var (format, mediaType) = (options?.AudioFormat?.ToLowerInvariant()) switch
        {
            null or "wav" or "audio/wav" or "audio/x-wav" => ("wav", "audio/wav"),
            "mp3" or "audio/mpeg" => ("mp3", "audio/mpeg"),
            "raw" or "pcm" or "audio/pcm" or "audio/l16" => ("raw", PcmMediaType),
            "mulaw" or "audio/basic" => ("mulaw", "audio/basic"),
            var other => throw new ArgumentException($"Together cannot produce the audio format '{other}': use wav, mp3, raw (pcm) or mulaw.", nameof(options)),
        };
        var audio = await _client.SynthesizeAsync(request, format, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new TextToSpeechResponse([new DataContent(audio, mediaType)]) { ModelId = request.Model };
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<TextToSpeechResponseUpdate> GetStreamingAudioAsync(string text, TextToSpeechOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var request = Request(text, options);
        await foreach (var chunk in _client.StreamAsync(request, TogetherTtsMode.Sse, cancellationToken).ConfigureAwait(false))
        {
            if (!chunk.Audio.IsEmpty)
            {
                yield return new TextToSpeechResponseUpdate([new DataContent(chunk.Audio.ToArray(), PcmMediaType)])
                {
                    Kind = TextToSpeechResponseUpdateKind.AudioUpdating,
                    ModelId = request.Model,
                };
            }
        }
        yield return new TextToSpeechResponseUpdate { Kind = TextToSpeechResponseUpdateKind.AudioUpdated, ModelId = request.Model };
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
        => serviceKey is not null || serviceType is null ? null
           : serviceType.IsInstanceOfType(this) ? this
           : serviceType == typeof(TogetherSpeechClient) ? _client
           : serviceType == typeof(TextToSpeechClientMetadata) ? new TextToSpeechClientMetadata("together", null, _model)
           : null;

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private SpeechRequest Request(string text, TextToSpeechOptions? options)
    {
        ArgumentException.ThrowIfNullOrEmpty(text);
        return new SpeechRequest
        {
            Input = text,
            Model = options?.ModelId ?? _model,
            Voice = options?.VoiceId ?? _voice,
            Language = options?.Language,
            Speed = options?.Speed,
        };
    }
}
