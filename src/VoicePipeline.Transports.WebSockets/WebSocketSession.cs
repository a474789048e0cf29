using System.Net.WebSockets;
using VoicePipeline.Processors;
using VoicePipeline.Transports.WebSockets.Serializers;

namespace VoicePipeline.Transports.WebSockets;

/// <summary>
/// One client connection of a <see cref="VoiceWebSocketServer"/>: put <see cref="Input"/> first and <see cref="Output"/>
/// last in the connection's pipeline, and pass <see cref="Stopping"/> to its run.
/// </summary>
/// <remarks>
/// The wire is the session's <see cref="Serializer"/> (<see cref="WebSocketServerOptions.Serializer"/>); by default the
/// project's own (<see cref="RawPcmSerializer"/>): the client sends binary messages of PCM s16le mono at
/// <see cref="WebSocketServerOptions.InputSampleRate"/> (any length) and receives binary messages of PCM s16le mono at
/// <see cref="WebSocketServerOptions.OutputSampleRate"/>, plus JSON text messages:
/// <c>{"type":"transcript","text":..,"final":..}</c>, <c>{"type":"bot_text","text":..}</c>,
/// <c>{"type":"user_started_speaking"}</c>, <c>{"type":"user_stopped_speaking"}</c> and <c>{"type":"interruption"}</c>
/// (stop playing what was received).
/// </remarks>
public sealed class WebSocketSession : IWireWriter
{
    private readonly WebSocket _socket;
    private readonly SemaphoreSlim _sending = new(1, 1);

    internal WebSocketSession(WebSocket socket, WebSocketServerOptions options, string id, CancellationToken stopping)
    {
        _socket = socket;
        Options = options;
        Id = id;
        Stopping = stopping;
        Serializer = options.Serializer?.Invoke() ?? new RawPcmSerializer(options.InputSampleRate, options.OutputSampleRate);
        Input = new WebSocketTransportInput(this);
        Output = new WebSocketTransportOutput(this);
    }

    /// <summary>Gets the connection's id (the ASP.NET Core trace identifier), for logs.</summary>
    public string Id { get; }

    /// <summary>Gets the first processor of the connection's pipeline: the client's audio as 20 ms <c>InputAudioRawFrame</c>s.</summary>
    public FrameProcessor Input { get; }

    /// <summary>Gets the last processor of the connection's pipeline: audio, transcripts and events to the client.</summary>
    public FrameProcessor Output { get; }

    /// <summary>
    /// Gets a token that fires when the server stops or the connection breaks: pass it to the pipeline's run. A client
    /// that closes the socket properly ends the pipeline with an <c>EndFrame</c> instead, so queued work finishes.
    /// </summary>
    public CancellationToken Stopping { get; }

    /// <summary>Gets the wire this connection speaks: frames to messages and back.</summary>
    public IFrameSerializer Serializer { get; }

    internal WebSocketServerOptions Options { get; }

    internal WebSocket Socket => _socket;

    /// <summary>Sends one message; messages from the pipeline's two loops never interleave. A gone client drops it.</summary>
    ValueTask IWireWriter.SendAsync(ReadOnlyMemory<byte> message, WireMessageType type, CancellationToken cancellationToken)
        => SendAsync(message, type == WireMessageType.Text ? WebSocketMessageType.Text : WebSocketMessageType.Binary, cancellationToken);

    /// <summary>Sends one message; messages from the pipeline's two loops never interleave. A gone client drops it.</summary>
    internal async ValueTask SendAsync(ReadOnlyMemory<byte> message, WebSocketMessageType type, CancellationToken cancellationToken)
    {
        await _sending.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // After the client's close the server may still send: what the pipeline finishes goes out before it closes.
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                await _socket.SendAsync(message, type, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
        catch (WebSocketException)
        {
            // The client is gone; its input side ends the pipeline.
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>Closes the socket properly if it is still open (bounded: a client that never answers is aborted).</summary>
    internal async Task CloseAsync()
    {
        await _sending.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "session ended", timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
        {
            _socket.Abort();
        }
        finally
        {
            _sending.Release();
        }
    }
}
