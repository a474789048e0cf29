using System.Text.Json.Serialization;

namespace VoicePipeline.Together.Speech;

/// <summary>How a synthesis reaches Together.</summary>
public enum TogetherTtsMode
{
    /// <summary>The speech WebSocket: one connection for many utterances, lowest latency, cancellable per context.</summary>
    WebSocket,

    /// <summary><c>POST /audio/speech</c> with <c>stream: true</c>: server-sent events carrying base64 PCM.</summary>
    Sse,

    /// <summary>Plain <c>POST /audio/speech</c>: a WAV body, read as it arrives.</summary>
    Rest,
}

/// <summary>What to synthesize and how.</summary>
public sealed class SpeechRequest
{
    /// <summary>The sample rate of Together's speech models (Orpheus, Kokoro): 24 kHz.</summary>
    public const int ModelSampleRate = 24_000;

    /// <summary>Gets or sets the text.</summary>
    public required string Input { get; set; }

    /// <summary>Gets or sets the model, for example <c>hexgrad/Kokoro-82M</c>.</summary>
    public required string Model { get; set; }

    /// <summary>Gets or sets the voice, for example <c>af_heart</c>.</summary>
    public required string Voice { get; set; }

    /// <summary>Gets or sets the language, when the model takes one.</summary>
    public string? Language { get; set; }

    /// <summary>Gets or sets the speaking speed (1 is normal), when the model takes one.</summary>
    public double? Speed { get; set; }

    /// <summary>Gets or sets the sample rate asked of the HTTP endpoints. The WebSocket always sends 24 kHz.</summary>
    public int SampleRate { get; set; } = ModelSampleRate;

    /// <summary>Creates a copy of this request.</summary>
    public SpeechRequest Clone() => (SpeechRequest)MemberwiseClone();
}

/// <summary>A word the server timed within an utterance's audio.</summary>
/// <param name="Text">The word.</param>
/// <param name="Start">Where it starts in the utterance's audio.</param>
/// <param name="End">Where it ends.</param>
public sealed record SpeechWord(string Text, TimeSpan Start, TimeSpan End);

/// <summary>
/// A piece of a synthesis as it streams: PCM s16le mono audio, or word timings, or both. The audio memory belongs to
/// the client and is valid only until the enumeration moves on: copy what you keep.
/// </summary>
public readonly struct SpeechChunk
{
    /// <summary>Creates a chunk.</summary>
    public SpeechChunk(ReadOnlyMemory<byte> audio, int sampleRate, IReadOnlyList<SpeechWord>? words = null)
    {
        Audio = audio;
        SampleRate = sampleRate;
        Words = words;
    }

    /// <summary>Gets PCM s16le mono samples (possibly empty), valid until the enumeration moves on.</summary>
    public ReadOnlyMemory<byte> Audio { get; }

    /// <summary>Gets the sample rate of <see cref="Audio"/>.</summary>
    public int SampleRate { get; }

    /// <summary>Gets word timings the server sent with this chunk, if any.</summary>
    public IReadOnlyList<SpeechWord>? Words { get; }
}

/// <summary>A voice of a speech model.</summary>
/// <param name="Id">The id to pass as <c>voice</c>.</param>
/// <param name="Name">A display name.</param>
public sealed record TogetherVoice(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string? Name);

/// <summary>A speech model and its voices, as <c>GET /voices</c> lists them.</summary>
/// <param name="Model">The model.</param>
/// <param name="Voices">Its voices.</param>
public sealed record TogetherVoiceModel(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("voices")] IReadOnlyList<TogetherVoice> Voices);

/// <summary>The body of <c>GET /voices</c>.</summary>
internal sealed record VoicesResponse([property: JsonPropertyName("data")] IReadOnlyList<TogetherVoiceModel>? Data);

/// <summary>The JSON body of <c>POST /audio/speech</c>.</summary>
internal sealed class SpeechRequestBody
{
    [JsonPropertyName("model")] public required string Model { get; init; }
    [JsonPropertyName("input")] public required string Input { get; init; }
    [JsonPropertyName("voice")] public required string Voice { get; init; }
    [JsonPropertyName("response_format")] public required string ResponseFormat { get; init; }
    [JsonPropertyName("response_encoding")] public string ResponseEncoding { get; init; } = "pcm_s16le";
    [JsonPropertyName("sample_rate")] public int SampleRate { get; init; }
    [JsonPropertyName("language")] public string? Language { get; init; }
    [JsonPropertyName("speed")] public double? Speed { get; init; }
    [JsonPropertyName("stream")] public bool Stream { get; init; }
}

/// <summary>A message the client sends on the speech WebSocket.</summary>
internal sealed class TtsClientMessage
{
    [JsonPropertyName("type")] public required string Type { get; init; }
    [JsonPropertyName("text")] public string? Text { get; init; }
    [JsonPropertyName("context_id")] public string? ContextId { get; init; }
    [JsonPropertyName("session")] public TtsSessionSettings? Session { get; init; }
}

/// <summary>The settings of <c>tts_session.updated</c>.</summary>
internal sealed class TtsSessionSettings
{
    [JsonPropertyName("voice")] public string? Voice { get; init; }
    [JsonPropertyName("language")] public string? Language { get; init; }
    [JsonPropertyName("speed")] public double? Speed { get; init; }
}

/// <summary>Source-generated serialization of the speech API.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SpeechRequestBody))]
[JsonSerializable(typeof(VoicesResponse))]
[JsonSerializable(typeof(TtsClientMessage))]
internal sealed partial class SpeechJsonContext : JsonSerializerContext;
