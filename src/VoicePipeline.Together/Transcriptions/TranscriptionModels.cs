using System.Text.Json.Serialization;

namespace VoicePipeline.Together.Transcriptions;

/// <summary>What to ask of a batch transcription or translation.</summary>
public sealed class TranscriptionRequest
{
    /// <summary>Gets or sets the model.</summary>
    public string Model { get; set; } = "openai/whisper-large-v3";

    /// <summary>Gets or sets the language (ISO-639-1 or <c>auto</c>); for translations, the target language.</summary>
    public string? Language { get; set; }

    /// <summary>Gets or sets a prompt that guides the model.</summary>
    public string? Prompt { get; set; }

    /// <summary>Gets or sets the sampling temperature (0..1).</summary>
    public double? Temperature { get; set; }

    /// <summary>Gets or sets whether to ask for the verbose response (segments, words, speakers).</summary>
    public bool Verbose { get; set; }

    /// <summary>Gets or sets <c>segment</c> or <c>word</c> timestamps (verbose only).</summary>
    public string? TimestampGranularities { get; set; }

    /// <summary>Gets or sets whether to label speakers (transcriptions only).</summary>
    public bool Diarize { get; set; }

    /// <summary>Gets or sets the least number of speakers when diarizing.</summary>
    public int? MinSpeakers { get; set; }

    /// <summary>Gets or sets the most number of speakers when diarizing.</summary>
    public int? MaxSpeakers { get; set; }

    /// <summary>Creates a copy.</summary>
    public TranscriptionRequest Clone() => (TranscriptionRequest)MemberwiseClone();
}

/// <summary>A transcription (or translation) as the API returns it; verbose fields are null for the plain format.</summary>
public sealed class TranscriptionResult
{
    /// <summary>Gets or sets the text.</summary>
    [JsonPropertyName("text")] public string Text { get; set; } = string.Empty;

    /// <summary>Gets or sets the task (<c>transcribe</c> or <c>translate</c>).</summary>
    [JsonPropertyName("task")] public string? Task { get; set; }

    /// <summary>Gets or sets the language of the text.</summary>
    [JsonPropertyName("language")] public string? Language { get; set; }

    /// <summary>Gets or sets the audio's duration in seconds.</summary>
    [JsonPropertyName("duration")] public double? Duration { get; set; }

    /// <summary>Gets or sets the segments.</summary>
    [JsonPropertyName("segments")] public List<TranscriptionSegment>? Segments { get; set; }

    /// <summary>Gets or sets the words (word granularity).</summary>
    [JsonPropertyName("words")] public List<TranscriptionWord>? Words { get; set; }

    /// <summary>Gets or sets the speaker segments (diarization).</summary>
    [JsonPropertyName("speaker_segments")] public List<SpeakerSegment>? SpeakerSegments { get; set; }
}

/// <summary>A segment of text with its times.</summary>
public sealed class TranscriptionSegment
{
    /// <summary>Gets or sets the id.</summary>
    [JsonPropertyName("id")] public int Id { get; set; }

    /// <summary>Gets or sets the start in seconds.</summary>
    [JsonPropertyName("start")] public double Start { get; set; }

    /// <summary>Gets or sets the end in seconds.</summary>
    [JsonPropertyName("end")] public double End { get; set; }

    /// <summary>Gets or sets the text.</summary>
    [JsonPropertyName("text")] public string Text { get; set; } = string.Empty;
}

/// <summary>A word with its times.</summary>
public sealed class TranscriptionWord
{
    /// <summary>Gets or sets the word.</summary>
    [JsonPropertyName("word")] public string Word { get; set; } = string.Empty;

    /// <summary>Gets or sets the start in seconds.</summary>
    [JsonPropertyName("start")] public double Start { get; set; }

    /// <summary>Gets or sets the end in seconds.</summary>
    [JsonPropertyName("end")] public double End { get; set; }

    /// <summary>Gets or sets the speaker (diarization).</summary>
    [JsonPropertyName("speaker_id")] public string? SpeakerId { get; set; }
}

/// <summary>A stretch of one speaker's speech.</summary>
public sealed class SpeakerSegment
{
    /// <summary>Gets or sets the id.</summary>
    [JsonPropertyName("id")] public int Id { get; set; }

    /// <summary>Gets or sets the speaker, <c>SPEAKER_00</c>, <c>SPEAKER_01</c>, ...</summary>
    [JsonPropertyName("speaker_id")] public string SpeakerId { get; set; } = string.Empty;

    /// <summary>Gets or sets the start in seconds.</summary>
    [JsonPropertyName("start")] public double Start { get; set; }

    /// <summary>Gets or sets the end in seconds.</summary>
    [JsonPropertyName("end")] public double End { get; set; }

    /// <summary>Gets or sets the text.</summary>
    [JsonPropertyName("text")] public string Text { get; set; } = string.Empty;

    /// <summary>Gets or sets the words.</summary>
    [JsonPropertyName("words")] public List<TranscriptionWord>? Words { get; set; }
}

/// <summary>Together's error body, <c>{"error":{"message","type","param","code"}}</c>.</summary>
public sealed class ApiErrorBody
{
    /// <summary>Gets or sets the error.</summary>
    [JsonPropertyName("error")] public Realtime.RealtimeError? Error { get; set; }
}

/// <summary>Source-generated serialization of the transcription API.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(TranscriptionResult))]
[JsonSerializable(typeof(ApiErrorBody))]
public sealed partial class TranscriptionJsonContext : JsonSerializerContext;
