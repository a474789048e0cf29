using System.Text.Json.Serialization;

namespace VoicePipeline.Together.Realtime;

/// <summary>Event type names of Together's realtime transcription protocol.</summary>
public static class RealtimeEventTypes
{
#pragma warning disable CS1591 // The names are the documentation.
    public const string Append = "input_audio_buffer.append";
    public const string Commit = "input_audio_buffer.commit";
    public const string Clear = "input_audio_buffer.clear";
    public const string SessionUpdate = "transcription_session.updated";
    public const string Echo = "echo";
    public const string SessionCreated = "session.created";
    public const string SessionUpdated = "transcription_session.updated";
    public const string Delta = "conversation.item.input_audio_transcription.delta";
    public const string Completed = "conversation.item.input_audio_transcription.completed";
    public const string Failed = "conversation.item.input_audio_transcription.failed";
    public const string Committed = "input_audio_buffer.committed";
    public const string Processed = "input_audio_buffer.processed";
    public const string EchoResponse = "echo.response";
    public const string Error = "error";
#pragma warning restore CS1591
}

/// <summary>Any event of the realtime protocol, in either direction. Every field is optional on the wire.</summary>
public sealed class RealtimeEvent
{
    /// <summary>Gets or sets the event type.</summary>
    [JsonPropertyName("type")]
    public string? Type { get; set; }

    /// <summary>Gets or sets base64 PCM (append).</summary>
    [JsonPropertyName("audio")]
    public string? Audio { get; set; }

    /// <summary>Gets or sets the session (created, updated).</summary>
    [JsonPropertyName("session")]
    public RealtimeSession? Session { get; set; }

    /// <summary>Gets or sets the item id of a transcript.</summary>
    [JsonPropertyName("item_id")]
    public string? ItemId { get; set; }

    /// <summary>Gets or sets the running text of the segment (delta).</summary>
    [JsonPropertyName("delta")]
    public string? Delta { get; set; }

    /// <summary>Gets or sets the final text of the segment (completed).</summary>
    [JsonPropertyName("transcript")]
    public string? Transcript { get; set; }

    /// <summary>Gets or sets the segment's start in seconds of session audio.</summary>
    [JsonPropertyName("start")]
    public double? Start { get; set; }

    /// <summary>Gets or sets the segment's duration in seconds.</summary>
    [JsonPropertyName("duration")]
    public double? Duration { get; set; }

    /// <summary>Gets or sets the language of the transcript, when the server reports it.</summary>
    [JsonPropertyName("language")]
    public string? Language { get; set; }

    /// <summary>Gets or sets, on a failed event, which event failed (only that turn failed).</summary>
    [JsonPropertyName("event_type")]
    public string? EventType { get; set; }

    /// <summary>Gets or sets the error (failed, error).</summary>
    [JsonPropertyName("error")]
    public RealtimeError? Error { get; set; }

    /// <summary>Gets or sets a top-level error message (some servers put it here).</summary>
    [JsonPropertyName("message")]
    public string? Message { get; set; }

    /// <summary>Gets or sets a top-level error code (some servers put it here).</summary>
    [JsonPropertyName("code")]
    public string? Code { get; set; }

    /// <summary>Gets or sets the echo id (echo, echo.response).</summary>
    [JsonPropertyName("echo_id")]
    public string? EchoId { get; set; }

    /// <summary>Gets or sets milliseconds processed (input_audio_buffer.processed).</summary>
    [JsonPropertyName("processed_ms")]
    public double? ProcessedMs { get; set; }
}

/// <summary>A transcription session's settings.</summary>
public sealed class RealtimeSession
{
    /// <summary>Gets or sets the session id.</summary>
    [JsonPropertyName("id")]
    public string? Id { get; set; }

    /// <summary>Gets or sets the object kind.</summary>
    [JsonPropertyName("object")]
    public string? Object { get; set; }

    /// <summary>Gets or sets the model.</summary>
    [JsonPropertyName("model")]
    public string? Model { get; set; }

    /// <summary>Gets or sets the language (ISO-639-1).</summary>
    [JsonPropertyName("language")]
    public string? Language { get; set; }

    /// <summary>Gets or sets the prompt (Whisper models only).</summary>
    [JsonPropertyName("prompt")]
    public string? Prompt { get; set; }
}

/// <summary>An error in a realtime event.</summary>
public sealed class RealtimeError
{
    /// <summary>Gets or sets the message.</summary>
    [JsonPropertyName("message")]
    public string? Message { get; set; }

    /// <summary>Gets or sets the type.</summary>
    [JsonPropertyName("type")]
    public string? Type { get; set; }

    /// <summary>Gets or sets the snake_case code.</summary>
    [JsonPropertyName("code")]
    public string? Code { get; set; }

    /// <summary>Gets or sets the offending parameter.</summary>
    [JsonPropertyName("param")]
    public string? Param { get; set; }
}

/// <summary>Source-generated serialization of the realtime protocol.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RealtimeEvent))]
public sealed partial class RealtimeJsonContext : JsonSerializerContext;
