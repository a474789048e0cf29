using System.Buffers;
using System.Buffers.Text;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using VoicePipeline.Frames;
using VoicePipeline.Services;

namespace VoicePipeline.Together.Realtime;

/// <summary>
/// Together's realtime transcription WebSocket as an <see cref="IRealtimeSttSession"/>: appends are base64 JSON of at
/// most 1000 ms each, encoded into pooled buffers; the server's events become <see cref="RealtimeSttEvent"/>s.
/// </summary>
internal sealed partial class TogetherRealtimeSession(RealtimeConnection connection, ArrayPool<byte> buffers, ILogger logger) : IRealtimeSttSession
{
    private const int MaxAppendSamples = 16_000; // never more than 1000 ms per append
    private static readonly byte[] s_appendPrefix = "{\"type\":\"input_audio_buffer.append\",\"audio\":\""u8.ToArray();
    private static readonly byte[] s_appendSuffix = "\"}"u8.ToArray();
    private static readonly byte[] s_commit = "{\"type\":\"input_audio_buffer.commit\"}"u8.ToArray();

    /// <summary>Gets how many messages wait for the socket.</summary>
    public int PendingSends => connection.PendingSends;

    public void Append(ReadOnlySpan<short> samples)
    {
        while (!samples.IsEmpty)
        {
            var chunk = samples[..Math.Min(samples.Length, MaxAppendSamples)];
            samples = samples[chunk.Length..];
            var pcm = MemoryMarshal.AsBytes(chunk);
            var buffer = buffers.Rent(s_appendPrefix.Length + Base64.GetMaxEncodedToUtf8Length(pcm.Length) + s_appendSuffix.Length);
            s_appendPrefix.CopyTo(buffer, 0);
            Base64.EncodeToUtf8(pcm, buffer.AsSpan(s_appendPrefix.Length), out _, out var written);
            s_appendSuffix.CopyTo(buffer, s_appendPrefix.Length + written);
            connection.Send(new OutgoingMessage(buffer, s_appendPrefix.Length + written + s_appendSuffix.Length, buffers, false));
        }
    }

    public void Commit() => connection.Send(new OutgoingMessage(s_commit, s_commit.Length, null, true));

    public void Update(SttSettings settings) => connection.Send(new RealtimeEvent
    {
        Type = RealtimeEventTypes.SessionUpdate,
        Session = new RealtimeSession { Language = settings.Language, Prompt = settings.Prompt },
    });

    public async ValueTask<RealtimeSttEvent> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var (message, end) = await connection.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            if (end is { } e)
                return RealtimeSttEvent.Closed($"{e.CloseStatus?.ToString() ?? "no close"}: {e.Description ?? e.Error?.Message ?? "?"}");
            if (ToSttEvent(message!, logger) is { } sttEvent)
                return sttEvent;
        }
    }

    /// <summary>What a server event means to the service; null for events it has no use for (logged).</summary>
    internal static RealtimeSttEvent? ToSttEvent(RealtimeEvent message, ILogger logger)
    {
        switch (message.Type)
        {
            case RealtimeEventTypes.Delta:
                return new(RealtimeSttEventKind.Interim, message.Delta, message.Language);
            case RealtimeEventTypes.Completed:
                return new(RealtimeSttEventKind.Final, message.Transcript, message.Language);
            case RealtimeEventTypes.Failed when message.EventType is not null:
                return new(RealtimeSttEventKind.TurnFailed, Message: $"Transcription of a turn failed: {message.Error?.Message ?? "no details"}", Category: ErrorCategory.Processing);
            case RealtimeEventTypes.Failed:
                return new(RealtimeSttEventKind.SessionFailed, Message: $"The transcription session failed: {message.Error?.Message ?? "no details"}", Category: ErrorCategory.Server);
            case RealtimeEventTypes.Error:
                var code = message.Error?.Code ?? message.Code;
                return new(RealtimeSttEventKind.Error, Message: $"Together realtime error{(code is null ? "" : $" ({code})")}: {message.Error?.Message ?? message.Message ?? "no details"}",
                    Category: RealtimeConnection.CategoryOf(code));
            case RealtimeConnection.GarbageType:
                Log.Garbage(logger);
                return null;
            default:
                Log.Ignored(logger, message.Type ?? "<no type>");
                return null;
        }
    }

    public Task CloseAsync(TimeSpan timeout) => connection.CloseAsync(timeout);

    public ValueTask DisposeAsync() => connection.DisposeAsync();

    private static partial class Log
    {
        [LoggerMessage(EventId = 604, Level = LogLevel.Warning, Message = "Ignored a server message that is not JSON")]
        public static partial void Garbage(ILogger logger);

        [LoggerMessage(EventId = 605, Level = LogLevel.Debug, Message = "Ignored server event {Type}")]
        public static partial void Ignored(ILogger logger, string type);
    }
}
