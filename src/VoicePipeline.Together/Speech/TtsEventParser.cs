using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;

namespace VoicePipeline.Together.Speech;

/// <summary>What a speech event from the server means to the client.</summary>
internal enum TtsEventKind
{
    Other,
    SessionCreated,
    Audio,
    Words,
    Done,
    Failed,
    Cancelled,
}

/// <summary>A parsed speech event. Its audio, if any, was appended to the buffer given to the parser.</summary>
internal struct TtsEvent
{
    public TtsEventKind Kind;
    public string? Type;
    public string? ContextId;
    public int AudioBytes;
    public List<SpeechWord>? Words;
    public string? ErrorMessage;
    public string? ErrorCode;
}

/// <summary>
/// Reads the speech events of the SSE stream and the WebSocket (both audio shapes in the wild, word timings, errors)
/// with <see cref="Utf8JsonReader"/>, decoding base64 audio straight into a caller's buffer: no strings, no copies.
/// </summary>
/// <remarks>
/// Hardened: every field's type is checked (a string where a string belongs, numbers where times belong), word times
/// must be finite, between 0 and <see cref="MaxWordSeconds"/>, and a word's end is never before its start; anything
/// else is an <see cref="InvalidDataException"/>, the only exception the parser throws.
/// </remarks>
internal static class TtsEventParser
{
    /// <summary>The latest time a word may start or end at, in seconds (a day: far beyond any one synthesis).</summary>
    public const double MaxWordSeconds = 86_400;

    /// <summary>Parses one event; audio is decoded into <paramref name="audio"/>.</summary>
    /// <exception cref="InvalidDataException">The text is not a JSON object, a field has the wrong type or is out of range, or the audio is not base64.</exception>
    public static TtsEvent Parse(ReadOnlySpan<byte> json, ArrayBufferWriter<byte> audio)
    {
        try
        {
            return ParseCore(json, audio);
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"A speech event is not valid: {exception.Message}", exception);
        }
    }

    private static TtsEvent ParseCore(ReadOnlySpan<byte> json, ArrayBufferWriter<byte> audio)
    {
        var result = new TtsEvent();
        string? objectName = null;
        List<string>? words = null;
        List<double>? starts = null, ends = null;
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            throw new JsonException("A speech event must be a JSON object.");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
                result.Type = ReadString(ref reader);
            else if (reader.ValueTextEquals("object"u8))
                objectName = ReadString(ref reader);
            else if (reader.ValueTextEquals("context_id"u8))
                result.ContextId = ReadString(ref reader);
            else if (reader.ValueTextEquals("delta"u8) || reader.ValueTextEquals("b64"u8))
                result.AudioBytes += ReadBase64(ref reader, audio);
            else if (reader.ValueTextEquals("words"u8))
                words = ReadArray(ref reader, static (ref Utf8JsonReader r) => r.TokenType == JsonTokenType.String ? r.GetString()! : throw new JsonException("A word is not a string."));
            else if (reader.ValueTextEquals("start_seconds"u8))
                starts = ReadArray(ref reader, ReadSeconds);
            else if (reader.ValueTextEquals("end_seconds"u8))
                ends = ReadArray(ref reader, ReadSeconds);
            else if (reader.ValueTextEquals("error"u8))
                ReadError(ref reader, ref result);
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        // Any event with an error object is an error, whatever its type says (SSE streams send bare {"error":{..}}).
        result.Kind = result.ErrorCode is not null || result.Type is "error" or "conversation.item.tts.failed"
            ? TtsEventKind.Failed
            : result.Type switch
            {
                "session.created" => TtsEventKind.SessionCreated,
                "conversation.item.audio_output.delta" => TtsEventKind.Audio,
                "conversation.item.audio_output.done" => TtsEventKind.Done,
                "conversation.item.word_timestamps" => TtsEventKind.Words,
                "context.cancelled" => TtsEventKind.Cancelled,
                _ when objectName == "audio.tts.chunk" || result.AudioBytes > 0 => TtsEventKind.Audio,
                _ => TtsEventKind.Other,
            };
        if (result.Kind == TtsEventKind.Failed)
            result.ErrorMessage ??= "the server reported an error";
        if (words is not null)
        {
            result.Words = new List<SpeechWord>(words.Count);
            for (var i = 0; i < words.Count; i++)
            {
                var start = starts is not null && i < starts.Count ? starts[i] : 0;
                var end = ends is not null && i < ends.Count ? ends[i] : start;
                if (end < start)
                    throw new JsonException($"The word \"{words[i]}\" ends ({end} s) before it starts ({start} s).");
                result.Words.Add(new SpeechWord(words[i], TimeSpan.FromSeconds(start), TimeSpan.FromSeconds(end)));
            }
        }
        return result;
    }

    private static double ReadSeconds(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out var seconds) || !double.IsFinite(seconds) || seconds is < 0 or > MaxWordSeconds)
            throw new JsonException($"A word time is not a number of seconds from 0 to {MaxWordSeconds}.");
        return seconds;
    }

    private static string? ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
            return reader.GetString();
        reader.Skip();
        return null;
    }

    private static int ReadBase64(ref Utf8JsonReader reader, ArrayBufferWriter<byte> audio)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return 0;
        }
        // Unescape into the destination (writers may escape '+' or '/'), then decode in place.
        var span = audio.GetSpan(reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length);
        var length = reader.CopyString(span);
        if (Base64.DecodeFromUtf8InPlace(span[..length], out var written) != OperationStatus.Done)
            throw new FormatException("The audio of a speech event is not valid base64.");
        audio.Advance(written);
        return written;
    }

    private delegate T ElementReader<T>(ref Utf8JsonReader reader);

    private static List<T>? ReadArray<T>(ref Utf8JsonReader reader, ElementReader<T> element)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return null;
        }
        var list = new List<T>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject)
                throw new JsonException("A nested value where a word or a time belongs.");
            list.Add(element(ref reader));
        }
        return list;
    }

    private static void ReadError(ref Utf8JsonReader reader, ref TtsEvent result)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            result.ErrorMessage = reader.GetString();
            result.ErrorCode ??= "error";
            return;
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }
        string? type = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("message"u8))
                result.ErrorMessage = ReadString(ref reader);
            else if (reader.ValueTextEquals("code"u8))
                result.ErrorCode = ReadScalar(ref reader);
            else if (reader.ValueTextEquals("type"u8))
                type = ReadString(ref reader);
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        result.ErrorCode ??= type ?? "error";
    }

    private static string? ReadScalar(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType switch
        {
            JsonTokenType.String => reader.GetString(),
            JsonTokenType.Number => System.Text.Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan),
            _ => SkipNull(ref reader),
        };
    }

    private static string? SkipNull(ref Utf8JsonReader reader)
    {
        reader.Skip();
        return null;
    }
}
