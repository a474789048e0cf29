using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace VoicePipeline.Together.Transcriptions;

#pragma warning disable MEAI001 // ISpeechToTextClient is experimental in Microsoft.Extensions.AI; we implement it knowingly.

/// <summary>
/// Microsoft.Extensions.AI's <see cref="ISpeechToTextClient"/> over Together's batch transcription: the audio stream is
/// uploaded as a file; <see cref="SpeechToTextOptions.TextLanguage"/> other than the speech language (or English)
/// selects translation.
/// </summary>
[Experimental("MEAI001")]
public sealed class TogetherSpeechToTextClient : ISpeechToTextClient
{
    private readonly TogetherTranscriptionClient _client;
    private readonly string _model;

    /// <summary>Creates the client over <paramref name="client"/> (not owned).</summary>
    public TogetherSpeechToTextClient(TogetherTranscriptionClient client, string model = "openai/whisper-large-v3")
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _model = model;
    }

    /// <inheritdoc />
    public async Task<SpeechToTextResponse> GetTextAsync(Stream audioSpeechStream, SpeechToTextOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(audioSpeechStream);
        var extension = options?.AdditionalProperties?.TryGetValue("file_extension", out var value) == true ? value as string : ".wav";
        var path = Path.Combine(Path.GetTempPath(), $"vp-stt-{Guid.NewGuid():N}{extension}");
        try
        {
            var file = File.Create(path);
            await using (file.ConfigureAwait(false))
                await audioSpeechStream.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
            var request = new TranscriptionRequest { Model = options?.ModelId ?? _model, Language = options?.SpeechLanguage, Verbose = true };
            var translate = options?.TextLanguage is { } target && target != (options.SpeechLanguage ?? target);
            var result = translate
                ? await _client.TranslateAsync(path, request, cancellationToken: cancellationToken).ConfigureAwait(false)
                : await _client.TranscribeAsync(path, request, cancellationToken: cancellationToken).ConfigureAwait(false);
            return new SpeechToTextResponse(result.Text)
            {
                ModelId = request.Model,
                StartTime = result.Segments is { Count: > 0 } s ? TimeSpan.FromSeconds(s[0].Start) : null,
                EndTime = result.Segments is { Count: > 0 } e ? TimeSpan.FromSeconds(e[^1].End) : null,
                RawRepresentation = result,
            };
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<SpeechToTextResponseUpdate> GetStreamingTextAsync(Stream audioSpeechStream, SpeechToTextOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetTextAsync(audioSpeechStream, options, cancellationToken).ConfigureAwait(false);
        foreach (var update in response.ToSpeechToTextResponseUpdates())
            yield return update;
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
        => serviceKey is null && serviceType?.IsInstanceOfType(this) == true ? this
           : serviceKey is null && serviceType == typeof(TogetherTranscriptionClient) ? _client : null;

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
