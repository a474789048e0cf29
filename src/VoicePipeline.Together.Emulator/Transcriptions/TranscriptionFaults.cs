namespace VoicePipeline.Together.Emulator.Transcriptions;

/// <summary>Faults the batch transcription endpoints inject, for tests.</summary>
public sealed class TranscriptionFaults : InjectedRefusals;

/// <summary>What one batch request carried, for assertions in tests.</summary>
/// <param name="Path">The endpoint.</param>
/// <param name="FieldOrder">The multipart field names in the order they arrived.</param>
/// <param name="Fields">The text fields.</param>
/// <param name="FileName">The uploaded file's name, if a file was uploaded.</param>
/// <param name="FileContentType">Its content type.</param>
/// <param name="FileSha256">The SHA-256 of the bytes received (hex).</param>
/// <param name="FileBytes">How many bytes were received.</param>
public sealed record TranscriptionRequestLog(string Path, IReadOnlyList<string> FieldOrder, IReadOnlyDictionary<string, string> Fields,
    string? FileName, string? FileContentType, string? FileSha256, long FileBytes);
