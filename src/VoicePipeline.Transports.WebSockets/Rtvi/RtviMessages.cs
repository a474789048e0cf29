using System.Buffers;
using System.Text.Json;

namespace VoicePipeline.Transports.WebSockets.Rtvi;

/// <summary>Builds RTVI messages: <c>{"label":"rtvi-ai","type":..,"id":..,"data":..}</c>.</summary>
internal static class RtviMessages
{
    public const string Label = "rtvi-ai";

    public static JsonElement Create(string type, string? id = null) => Create<object?>(type, id, null, null);

    public static JsonElement Create<T>(string type, string? id, T state, Action<Utf8JsonWriter, T>? data)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("label", Label);
            writer.WriteString("type", type);
            if (id is not null)
                writer.WriteString("id", id);
            if (data is not null)
            {
                writer.WritePropertyName("data");
                data(writer, state);
            }
            writer.WriteEndObject();
        }
        var reader = new Utf8JsonReader(buffer.WrittenSpan);
        return JsonElement.ParseValue(ref reader);
    }

    public static JsonElement Text(string type, string text) => Create(type, null, text, static (w, t) =>
    {
        w.WriteStartObject();
        w.WriteString("text", t);
        w.WriteEndObject();
    });

    public static JsonElement Error(string? id, string error, bool fatal) => Create(id is null ? "error" : "error-response", id, (error, fatal, id), static (w, e) =>
    {
        w.WriteStartObject();
        w.WriteString("error", e.error);
        if (e.id is null)
            w.WriteBoolean("fatal", e.fatal);
        w.WriteEndObject();
    });
}
