using System.Buffers;
using System.Net;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using VoicePipeline.Together.Client;

namespace VoicePipeline.Together.Speech;

/// <summary>
/// One connection to Together's speech WebSocket (<c>/audio/speech/websocket</c>). Synthesizes one text at a time,
/// each in its own context: stopping an enumeration early (or cancelling it) sends <c>context.cancel</c>, and the
/// cancelled context's late audio is dropped, so the connection stays usable for the next text. Every timeout (the
/// handshake and the session's start, a context the server stops answering, a stuck send, the close) runs on the client
/// options' <see cref="TogetherClientOptions.TimeProvider"/>.
/// </summary>
public sealed class TogetherTtsConnection : IAsyncDisposable
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(10);

    private readonly ClientWebSocket _socket;
    private readonly TimeProvider _timeProvider;
    private readonly Channel<ReceivedEvent> _events = Channel.CreateUnbounded<ReceivedEvent>(new UnboundedChannelOptions { SingleWriter = true, SingleReader = true });
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Task _receiveLoop;
    private readonly CancellationTokenSource _disposing = new();
    private readonly PcmAssembler _assembler = new(SpeechRequest.ModelSampleRate); // one synthesis at a time, so one assembler
    private int _busy;
    private long _contexts;

    private readonly TimeSpan _stallTimeout;

    private TogetherTtsConnection(ClientWebSocket socket, TimeProvider timeProvider, TimeSpan stallTimeout, string model, string voice)
    {
        _socket = socket;
        _timeProvider = timeProvider;
        _stallTimeout = stallTimeout;
        Model = model;
        Voice = voice;
        _receiveLoop = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>Gets the model the connection synthesizes with.</summary>
    public string Model { get; }

    /// <summary>Gets the voice in use (changed by <see cref="UpdateSessionAsync"/>).</summary>
    public string Voice { get; private set; }

    /// <summary>Gets whether the socket is still open.</summary>
    public bool IsOpen => _socket.State == WebSocketState.Open && !_receiveLoop.IsCompleted;

    internal static async Task<TogetherTtsConnection> ConnectAsync(TogetherClientOptions options, string model, string voice, TimeSpan sessionTimeout, TimeSpan stallTimeout, CancellationToken cancellationToken)
    {
        var uri = options.BuildUri($"audio/speech/websocket?model={Uri.EscapeDataString(model)}&voice={Uri.EscapeDataString(voice)}", webSocket: true);
        // The session timeout covers the handshake too: a server that takes the connection and never answers it is no better.
        using var expiry = new CancellationTokenSource(sessionTimeout, options.TimeProvider);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, expiry.Token);
        ClientWebSocket socket;
        try
        {
            socket = await TogetherWebSocket.ConnectAsync(uri, options.ApiKey!, null, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TogetherApiException($"No WebSocket handshake within {sessionTimeout.TotalSeconds:0.#} s from {uri.GetLeftPart(UriPartial.Path)}.", HttpStatusCode.GatewayTimeout, "session_timeout", null);
        }
        var connection = new TogetherTtsConnection(socket, options.TimeProvider, stallTimeout, model, voice);
        try
        {
            var first = await connection._events.Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
            first.Release();
            if (first.Event.Kind == TtsEventKind.SessionCreated)
                return connection;
            throw new TogetherApiException($"The speech session did not start: {first.Event.ErrorMessage ?? first.Event.Type ?? "the server sent something else"}", null, first.Event.ErrorCode, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new TogetherApiException($"No session.created within {sessionTimeout.TotalSeconds:0.#} s from {uri.GetLeftPart(UriPartial.Path)}.", HttpStatusCode.GatewayTimeout, "session_timeout", null);
        }
        catch (ChannelClosedException closed)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw closed.InnerException as TogetherApiException ?? new TogetherApiException("The speech WebSocket closed before the session started.", closed);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Synthesizes <paramref name="text"/> in a new context and streams its audio (PCM s16le mono, 24 kHz) and word
    /// timings until the server says it is done. One synthesis at a time per connection.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="contextId">The context id to use; a fresh one when null.</param>
    /// <param name="cancellationToken">Cancels the synthesis: the server is told to stop the context.</param>
    /// <exception cref="TogetherApiException">The server failed the synthesis, or the connection broke part way.</exception>
    /// <exception cref="InvalidOperationException">Another synthesis is running on this connection.</exception>
    public async IAsyncEnumerable<SpeechChunk> SynthesizeAsync(string text, string? contextId = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(text);
        if (Interlocked.Exchange(ref _busy, 1) == 1)
            throw new InvalidOperationException("A synthesis is already running on this connection.");
        var context = contextId ?? $"ctx_{Interlocked.Increment(ref _contexts)}_{Environment.TickCount64:x}";
        var finished = false;
        var assembler = _assembler;
        assembler.Reset();
        ReceivedEvent current = default;
        IdleTimeout? stall = null;
        try
        {
            await SendAsync(new TtsClientMessage { Type = "input_text_buffer.append", Text = text, ContextId = context }).ConfigureAwait(false);
            await SendAsync(new TtsClientMessage { Type = "input_text_buffer.commit", ContextId = context }).ConfigureAwait(false);
            // A context the server stops answering (no audio, no done) ends as incomplete after the stall timeout.
            stall = new IdleTimeout(_stallTimeout, _timeProvider, cancellationToken);
            while (!finished)
            {
                current.Release();
                current = default;
                try
                {
                    current = await ReadEventAsync(stall.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException exception) when (stall.Expired && !cancellationToken.IsCancellationRequested)
                {
                    throw TogetherSpeechClient.Stalled(_stallTimeout, exception);
                }
                var e = current.Event;
                if (e.ContextId is not null && e.ContextId != context)
                    continue; // late events of a cancelled context
                stall.Restart();
                switch (e.Kind)
                {
                    case TtsEventKind.Audio:
                        var pcm = assembler.Add(current.Audio.AsSpan(0, current.Length), startsMessage: true);
                        if (!pcm.IsEmpty)
                            yield return new SpeechChunk(pcm, SpeechRequest.ModelSampleRate);
                        break;
                    case TtsEventKind.Words when e.Words is { Count: > 0 }:
                        yield return new SpeechChunk(ReadOnlyMemory<byte>.Empty, SpeechRequest.ModelSampleRate, e.Words);
                        break;
                    case TtsEventKind.Failed:
                        finished = true; // the server ended this context itself
                        throw new TogetherApiException($"The server failed the synthesis: {e.ErrorMessage}", null, e.ErrorCode, null);
                    case TtsEventKind.Done:
                    case TtsEventKind.Cancelled:
                        finished = true;
                        break;
                }
            }
        }
        finally
        {
            stall?.Dispose();
            current.Release();
            Volatile.Write(ref _busy, 0);
            if (!finished && IsOpen)
                _ = CancelContextAsync(context);
        }
    }

    /// <summary>Changes the voice, speed or language of later syntheses (<c>tts_session.updated</c>). Null keeps a setting.</summary>
    public async Task UpdateSessionAsync(string? voice = null, double? speed = null, string? language = null, CancellationToken cancellationToken = default)
    {
        await SendAsync(new TtsClientMessage { Type = "tts_session.updated", Session = new TtsSessionSettings { Voice = voice, Speed = speed, Language = language } }, cancellationToken).ConfigureAwait(false);
        Voice = voice ?? Voice;
    }

    /// <summary>Closes the connection (best effort, bounded) and releases it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(CloseTimeout, _timeProvider);
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is OperationCanceledException or WebSocketException or IOException)
            {
                // Closing is best effort.
            }
        }
        // Abort does not interrupt a receive from a peer that went quiet without closing: cancelling it does.
        await _disposing.CancelAsync().ConfigureAwait(false);
        _socket.Abort();
        await _receiveLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _socket.Dispose();
        _disposing.Dispose();
        _sendLock.Dispose();
        while (_events.Reader.TryRead(out var left))
            left.Release();
    }

    private async ValueTask<ReceivedEvent> ReadEventAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _events.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException closed)
        {
            throw closed.InnerException as TogetherApiException ?? new TogetherApiException("The speech WebSocket closed during a synthesis.", closed);
        }
    }

    private async Task CancelContextAsync(string context)
    {
        try
        {
            await SendAsync(new TtsClientMessage { Type = "context.cancel", ContextId = context }).ConfigureAwait(false);
        }
        catch (TogetherApiException)
        {
            // The connection is gone: nothing is left to cancel.
        }
    }

    private async Task SendAsync(TtsClientMessage message, CancellationToken cancellationToken = default)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(message, SpeechJsonContext.Default.TtsClientMessage);
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Never cancel a send half way (that aborts the socket); a stuck socket is given up on after a while.
            using var timeout = new CancellationTokenSource(SendTimeout, _timeProvider);
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, true, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            throw new TogetherApiException($"Could not send {message.Type} on the speech WebSocket: {exception.Message}", exception);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var message = new ArrayBufferWriter<byte>(16 * 1024);
        var audio = new ArrayBufferWriter<byte>(16 * 1024);
        Exception? end = null;
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveMessageAsync(message, 16 * 1024 * 1024, _disposing.Token).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    end = new TogetherApiException($"The speech WebSocket was closed by the server ({_socket.CloseStatus}: {_socket.CloseStatusDescription ?? "no reason given"}).", null, "connection_closed", null);
                    return;
                }
                if (result.MessageType != WebSocketMessageType.Text)
                    continue;
                audio.ResetWrittenCount();
                TtsEvent parsed;
                try
                {
                    parsed = TtsEventParser.Parse(message.WrittenSpan, audio);
                }
                catch (InvalidDataException)
                {
                    continue; // garbage from the server: skipped, the synthesis goes on or times out
                }
                byte[]? rented = null;
                if (audio.WrittenCount > 0)
                {
                    rented = ArrayPool<byte>.Shared.Rent(audio.WrittenCount);
                    audio.WrittenSpan.CopyTo(rented);
                }
                _events.Writer.TryWrite(new ReceivedEvent(parsed, rented, audio.WrittenCount));
            }
        }
        catch (Exception exception) when (exception is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            end = new TogetherApiException($"The speech WebSocket broke: {exception.Message}", null, "connection_lost", null, exception);
        }
        finally
        {
            _events.Writer.TryComplete(end);
        }
    }

    /// <summary>An event with its audio in a pooled array (returned by <see cref="Release"/>).</summary>
    private readonly record struct ReceivedEvent(TtsEvent Event, byte[]? Audio, int Length)
    {
        public void Release()
        {
            if (Audio is not null)
                ArrayPool<byte>.Shared.Return(Audio);
        }
    }
}
