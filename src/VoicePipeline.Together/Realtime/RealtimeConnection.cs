using System.Buffers;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using VoicePipeline.Frames;
using VoicePipeline.Together.Client;

namespace VoicePipeline.Together.Realtime;

/// <summary>A message waiting to be sent: UTF-8 JSON in a buffer, returned to <paramref name="Pool"/> once sent when it has one.</summary>
internal readonly record struct OutgoingMessage(byte[] Buffer, int Length, ArrayPool<byte>? Pool, bool IsCommit)
{
    public void Release() => Pool?.Return(Buffer);
}

/// <summary>Why a connection ended.</summary>
internal readonly record struct ConnectionEnd(WebSocketCloseStatus? CloseStatus, string? Description, Exception? Error);

/// <summary>
/// One realtime WebSocket: handshake and <c>session.created</c>, a single send loop fed by a channel (so messages never
/// interleave and a commit is never stuck behind a caller), and event reading.
/// </summary>
internal sealed class RealtimeConnection : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly TimeProvider _timeProvider;
    // An idle send loop runs on the appending thread until the send awaits: an append costs no thread-pool hop.
    private readonly Channel<OutgoingMessage> _outgoing = Channel.CreateUnbounded<OutgoingMessage>(new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = true });
    private readonly Task _sendLoop;
    private readonly CancellationTokenSource _disposing = new();
    private readonly Action<long>? _onCommitSent;
    private readonly ArrayBufferWriter<byte> _receiveBuffer = new(16 * 1024);
    private int _pendingSends;

    private RealtimeConnection(ClientWebSocket socket, TimeProvider timeProvider, Action<long>? onCommitSent)
    {
        _socket = socket;
        _timeProvider = timeProvider;
        _onCommitSent = onCommitSent;
        _sendLoop = Task.Run(SendLoopAsync);
    }

    /// <summary>Connects and waits for <c>session.created</c>, timing out on the system clock.</summary>
    /// <exception cref="TogetherApiException">The handshake was refused, or the session did not start.</exception>
    public static Task<RealtimeConnection> ConnectAsync(Uri uri, string apiKey, TimeSpan sessionTimeout, Action<long>? onCommitSent, CancellationToken cancellationToken)
        => ConnectAsync(uri, apiKey, sessionTimeout, TimeProvider.System, onCommitSent, cancellationToken);

    /// <summary>
    /// Connects and waits for <c>session.created</c>; the session timeout, and every later timeout of the connection
    /// (<see cref="CloseAsync"/>), run on <paramref name="timeProvider"/>.
    /// </summary>
    /// <exception cref="TogetherApiException">The handshake was refused, or the session did not start.</exception>
    public static async Task<RealtimeConnection> ConnectAsync(Uri uri, string apiKey, TimeSpan sessionTimeout, TimeProvider timeProvider, Action<long>? onCommitSent, CancellationToken cancellationToken)
    {
        var safeUri = uri.GetLeftPart(UriPartial.Path);
        // The session timeout covers the handshake too: a server that takes the connection and never answers it is no better.
        using var expiry = new CancellationTokenSource(sessionTimeout, timeProvider);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, expiry.Token);
        ClientWebSocket socket;
        try
        {
            socket = await TogetherWebSocket.ConnectAsync(uri, apiKey, [new("OpenAI-Beta", "realtime=v1")], timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TogetherApiException($"No WebSocket handshake within {sessionTimeout.TotalSeconds:0.#} s from {safeUri}.", HttpStatusCode.GatewayTimeout, "session_timeout", null);
        }
        var connection = new RealtimeConnection(socket, timeProvider, onCommitSent);
        try
        {
            var first = await connection.ReceiveAsync(timeout.Token).ConfigureAwait(false);
            if (first.Event?.Type == RealtimeEventTypes.SessionCreated)
                return connection;
            var error = first.Event?.Error?.Message ?? first.Event?.Message ?? first.End?.Description ?? "the server sent something else";
            throw new TogetherApiException($"The realtime session did not start: {error}", null, first.Event?.Error?.Code ?? first.Event?.Code, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new TogetherApiException($"No session.created within {sessionTimeout.TotalSeconds:0.#} s from {safeUri}.", HttpStatusCode.GatewayTimeout, "session_timeout", null);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Gets how many messages wait to be sent.</summary>
    public int PendingSends => Volatile.Read(ref _pendingSends);

    /// <summary>Queues a message; it is sent in order by the send loop. Pooled buffers return to the pool once sent.</summary>
    public void Send(OutgoingMessage message)
    {
        Interlocked.Increment(ref _pendingSends);
        if (!_outgoing.Writer.TryWrite(message))
        {
            Interlocked.Decrement(ref _pendingSends);
            message.Release();
        }
    }

    /// <summary>Queues an event serialized with the source-generated context.</summary>
    public void Send(RealtimeEvent message)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(message, RealtimeJsonContext.Default.RealtimeEvent);
        Send(new OutgoingMessage(bytes, bytes.Length, null, message.Type == RealtimeEventTypes.Commit));
    }

    /// <summary>Reads the next event; returns an end instead when the connection closed or broke.</summary>
    public async Task<(RealtimeEvent? Event, ConnectionEnd? End)> ReceiveAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            ValueWebSocketReceiveResult result;
            try
            {
                const int limit = 4 * 1024 * 1024;
                result = await _socket.ReceiveMessageAsync(_receiveBuffer, limit, cancellationToken).ConfigureAwait(false);
                if (_receiveBuffer.WrittenCount > limit)
                    return (null, new ConnectionEnd(null, "a message over 4 MB", null));
            }
            catch (Exception exception) when (exception is WebSocketException or IOException or ObjectDisposedException)
            {
                return (null, new ConnectionEnd(null, exception.Message, exception));
            }
            if (result.MessageType == WebSocketMessageType.Close)
                return (null, new ConnectionEnd(_socket.CloseStatus, _socket.CloseStatusDescription, null));
            if (result.MessageType != WebSocketMessageType.Text)
                continue;
            if (Parse(_receiveBuffer.WrittenSpan) is { } message)
                return (message, null);
        }
    }

    /// <summary>The type given to a message that is not a JSON event (or not one of the documented shape).</summary>
    internal const string GarbageType = "<garbage>";

    /// <summary>
    /// Reads one server message; never throws for what the server sent: a message that is not an event of the
    /// documented shape (not JSON, a field of the wrong type) is an event of type <see cref="GarbageType"/>, and
    /// <c>null</c> (JSON's) is null.
    /// </summary>
    internal static RealtimeEvent? Parse(ReadOnlySpan<byte> message)
    {
        try
        {
            return JsonSerializer.Deserialize(message, RealtimeJsonContext.Default.RealtimeEvent);
        }
        catch (JsonException)
        {
            return new RealtimeEvent { Type = GarbageType };
        }
    }

    /// <summary>Closes gracefully (bounded by <paramref name="timeout"/> on the connection's clock) after the queued messages went out.</summary>
    public async Task CloseAsync(TimeSpan timeout)
    {
        _outgoing.Writer.TryComplete();
        using var cts = new CancellationTokenSource(timeout, _timeProvider);
        try
        {
            await _sendLoop.WaitAsync(cts.Token).ConfigureAwait(false);
            if (_socket.State == WebSocketState.Open)
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", cts.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException or IOException)
        {
            // Closing is best effort: the socket is aborted on dispose.
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _outgoing.Writer.TryComplete();
        // Abort does not interrupt a send blocked on a peer that stopped reading (it dropped without closing the
        // socket, or stalls): cancelling the send does, so the dispose, and the reconnect after it, never hang.
        await _disposing.CancelAsync().ConfigureAwait(false);
        _socket.Abort();
        await _sendLoop.ConfigureAwait(false);
        _socket.Dispose();
        _disposing.Dispose();
        while (_outgoing.Reader.TryRead(out var message))
            message.Release();
    }

    private async Task SendLoopAsync()
    {
        var reader = _outgoing.Reader;
        var broken = false;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var message))
            {
                try
                {
                    if (!broken)
                    {
                        await _socket.SendAsync(message.Buffer.AsMemory(0, message.Length), WebSocketMessageType.Text, true, _disposing.Token).ConfigureAwait(false);
                        if (message.IsCommit)
                            _onCommitSent?.Invoke(System.Diagnostics.Stopwatch.GetTimestamp());
                    }
                }
                catch (Exception exception) when (exception is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
                {
                    broken = true; // the receive side reports the break; unsent audio stays in the replay buffer
                }
                finally
                {
                    message.Release();
                    Interlocked.Decrement(ref _pendingSends);
                }
            }
        }
    }

    /// <summary>The category of an <c>error</c> event's code.</summary>
    internal static ErrorCategory CategoryOf(string? code) => code switch
    {
        "invalid_api_key" or "missing_api_key" => ErrorCategory.Authentication,
        "forbidden" => ErrorCategory.Authorization,
        "rate_limit_exceeded" => ErrorCategory.RateLimit,
        "model_not_available" or "invalid_audio_format" or "invalid_request" or "unknown_event" or "invalid_json" or "invalid_audio" => ErrorCategory.InvalidRequest,
        _ => ErrorCategory.Server,
    };
}
