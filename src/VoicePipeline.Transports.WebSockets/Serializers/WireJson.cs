using System.Buffers;
using System.Text.Json;

namespace VoicePipeline.Transports.WebSockets.Serializers;

/// <summary>Writes one small JSON message into a fresh array (events are rare next to audio).</summary>
internal static class WireJson
{
    public static byte[] Write<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
            write(writer, state);
        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] Write(JsonElement element) => Write(element, static (w, e) => e.WriteTo(w));

    /// <summary>Sends the first <paramref name="length"/> bytes of an array rented from the shared pool, then returns it.</summary>
    public static async ValueTask SendRentedAsync(IWireWriter writer, byte[] rented, int length, WireMessageType type, CancellationToken cancellationToken)
    {
        try
        {
            await writer.SendAsync(rented.AsMemory(0, length), type, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
