using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using VoicePipeline.Pipelines;
using VoicePipeline.Processors;
using VoicePipeline.Transports.WebSockets.Serializers;

namespace VoicePipeline.Transports.WebSockets;

/// <summary>
/// One client connection of a voice endpoint (<c>MapVoicePipeline</c>, <see cref="VoiceWebSocketServer"/>): put
/// <see cref="Input"/> first and <see cref="Output"/> last in the connection's pipeline and pass <see cref="Stopping"/>
/// to its run, or let <see cref="RunPipelineAsync"/> do all of it.
/// </summary>
/// <remarks>
/// The wire is the session's <see cref="Serializer"/> (<see cref="WebSocketServerOptions.Serializer"/>); by default the
/// project's own (<see cref="RawPcmSerializer"/>): the client sends binary messages of PCM s16le mono at
/// <see cref="VoicePipelineServerOptions.InputSampleRate"/> (any length up to <see cref="VoicePipelineServerOptions.MaxMessageBytes"/>)
/// and receives binary messages of PCM s16le mono at <see cref="VoicePipelineServerOptions.OutputSampleRate"/>, plus JSON text messages:
/// <c>{"type":"transcript","text":..,"final":..}</c>, <c>{"type":"bot_text","text":..}</c>,
/// <c>{"type":"user_started_speaking"}</c>, <c>{"type":"user_stopped_speaking"}</c> and <c>{"type":"interruption"}</c>
/// (stop playing what was received). The session's limits close it: 1009 for a message too large, 1008 for audio
/// faster than allowed, 1000 for the idle timeout and the maximum length, 1001 when the server drains; a client that
/// stops reading is dropped after the send timeout.
/// </remarks>
public sealed class WebSocketSession : IWireWriter
{
    private readonly WebSocket _socket;
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly CancellationTokenSource _stopping;
    private readonly Lock _gate = new();
    private readonly CancellationTokenRegistration _ending;
    private WebSocketCloseStatus? _closeStatus;
    private string? _closeReason;

    internal WebSocketSession(WebSocket socket, VoicePipelineServerOptions options, string id, CancellationToken aborted, CancellationToken serverStopping, CancellationToken ending, ILogger logger, Func<IFrameSerializer>? serializer = null)
    {
        _socket = socket;
        Options = options;
        Id = id;
        _stopping = CancellationTokenSource.CreateLinkedTokenSource(aborted, serverStopping);
        Ending = ending;
        Serializer = serializer?.Invoke() ?? new RawPcmSerializer(options.InputSampleRate, options.OutputSampleRate);
        Limits = new SessionLimits(options, id, logger, Close, OnSendTimeout);
        _ending = ending.Register(static s => ((WebSocketSession)s!).Close(WebSocketCloseStatus.EndpointUnavailable, "server shutting down"), this);
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
    /// Gets a token that fires when the session must stop now: the server stops, the connection breaks or a limit was
    /// broken. Pass it to the pipeline's run. A client that closes the socket properly ends the pipeline with an
    /// <c>EndFrame</c> instead, so queued work finishes.
    /// </summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>
    /// Gets a token that fires when a draining server's grace period is over. The session then sends a 1001 close; the
    /// client's answer ends the pipeline with an <c>EndFrame</c> (a client that does not answer is cut off).
    /// </summary>
    public CancellationToken Ending { get; }

    /// <summary>Gets the wire this connection speaks: frames to messages and back.</summary>
    public IFrameSerializer Serializer { get; }

    internal VoicePipelineServerOptions Options { get; }

    internal WebSocket Socket => _socket;

    internal SessionLimits Limits { get; }

    /// <summary>
    /// Runs <see cref="Input"/>, <paramref name="processors"/>, <see cref="Output"/> and <paramref name="afterOutput"/>
    /// as the session's pipeline until the client leaves, a limit ends the session or the server drains (then with an
    /// <c>EndFrame</c>), and disposes the processors afterwards (so shared resources such as a VAD batcher let go of
    /// the session).
    /// </summary>
    /// <param name="processors">The processors between input and output.</param>
    /// <param name="options">The task's options; by default the session's input and output rates.</param>
    /// <param name="afterOutput">Processors after the output, such as an assistant aggregator that records what was played.</param>
    /// <returns>How the pipeline finished.</returns>
    public async Task<PipelineCompletion> RunPipelineAsync(IReadOnlyList<FrameProcessor> processors, PipelineTaskOptions? options = null, IReadOnlyList<FrameProcessor>? afterOutput = null)
    {
        ArgumentNullException.ThrowIfNull(processors);
        afterOutput ??= [];
        try
        {
            var pipeline = new Pipeline([Input, .. processors, Output, .. afterOutput]);
            options ??= new PipelineTaskOptions { AudioInSampleRate = Options.InputSampleRate, AudioOutSampleRate = Options.OutputSampleRate };
            var task = new PipelineTask(pipeline, options);
            await using (task.ConfigureAwait(false))
                return await task.RunAsync(Stopping).ConfigureAwait(false);
        }
        finally
        {
            foreach (var processor in processors.Concat(afterOutput))
                await processor.DisposeAsync().ConfigureAwait(false);
            await Input.DisposeAsync().ConfigureAwait(false);
            await Output.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Ends the session with <paramref name="status"/> (the first reason wins): the close frame goes out at once, the
    /// client answers it and the input ends the pipeline with an <c>EndFrame</c> (reading and dropping whatever the
    /// client still sends); a client that does not answer within <see cref="CloseAnswerTimeout"/> is cut off and the
    /// pipeline cancelled.
    /// </summary>
    internal void Close(WebSocketCloseStatus status, string reason)
    {
        lock (_gate)
        {
            if (_closeStatus is not null)
                return;
            _closeStatus = status;
            _closeReason = reason;
        }
        _ = SendCloseAsync(status, reason);
    }

    private async Task SendCloseAsync(WebSocketCloseStatus status, string reason)
    {
        try
        {
            using var timeout = new CancellationTokenSource(Options.SendTimeout, Options.TimeProvider);
            await _sending.WaitAsync(timeout.Token).ConfigureAwait(false);
            try
            {
                if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                    await _socket.CloseOutputAsync(status, reason, timeout.Token).ConfigureAwait(false);
            }
            finally
            {
                _sending.Release();
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            Cancel();
            return;
        }
        try
        {
            await Task.Delay(CloseAnswerTimeout, Options.TimeProvider, _stopping.Token).ConfigureAwait(false);
            Cancel(); // the client did not answer the close
        }
        catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException)
        {
            // The session ended.
        }
    }

    private static TimeSpan CloseAnswerTimeout => TimeSpan.FromSeconds(2);

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
            {
                Limits.SendStarted();
                await _socket.SendAsync(message, type, endOfMessage: true, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (WebSocketException)
        {
            // The client is gone; its input side ends the pipeline.
        }
        catch (OperationCanceledException) when (_socket.State == WebSocketState.Aborted)
        {
            // The send timed out and the connection was aborted.
        }
        finally
        {
            Limits.SendEnded();
            _sending.Release();
        }
    }

    /// <summary>Closes the socket properly if it is still open (bounded: a client that never answers is aborted).</summary>
    internal async Task CloseAsync()
    {
        await _ending.DisposeAsync().ConfigureAwait(false);
        Limits.Dispose();
        await _sending.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                WebSocketCloseStatus status;
                string reason;
                lock (_gate)
                {
                    status = _closeStatus ?? (Ending.IsCancellationRequested ? WebSocketCloseStatus.EndpointUnavailable : WebSocketCloseStatus.NormalClosure);
                    reason = _closeReason ?? (Ending.IsCancellationRequested ? "server shutting down" : "session ended");
                }
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(status, reason, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
        {
            _socket.Abort();
        }
        finally
        {
            _sending.Release();
            _stopping.Dispose();
        }
    }

    private void OnSendTimeout()
    {
        _socket.Abort(); // a close frame cannot reach a client that does not read
        Cancel();
    }

    private void Cancel()
    {
        try
        {
            _stopping.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session is over already.
        }
    }
}
