using VoicePipeline.Transports.WebSockets.Serializers;

namespace VoicePipeline.Transports.WebSockets;

/// <summary>Where a <see cref="VoiceWebSocketServer"/> listens, and (inherited) what its sockets carry and their limits.</summary>
public sealed class WebSocketServerOptions : VoicePipelineServerOptions
{
    /// <summary>Gets or sets the interface to listen on (loopback by default).</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Gets or sets the port; 0 picks a free one (see <see cref="VoiceWebSocketServer.BaseUrl"/>).</summary>
    public int Port { get; set; } = 8765;

    /// <summary>Gets or sets the path of the WebSocket endpoint.</summary>
    public string Path { get; set; } = "/ws";

    /// <summary>Gets or sets whether <c>GET /</c> serves the browser page that talks to the endpoint.</summary>
    public bool ServePage { get; set; } = true;

    /// <summary>
    /// Gets or sets what makes each connection's wire (called once per connection); null for the project's own raw
    /// PCM + JSON events at <see cref="VoicePipelineServerOptions.InputSampleRate"/> and <see cref="VoicePipelineServerOptions.OutputSampleRate"/>. For example
    /// <c>() =&gt; new ProtobufFrameSerializer()</c> serves Pipecat's clients, <c>() =&gt; new TwilioFrameSerializer()</c>
    /// Twilio Media Streams.
    /// </summary>
    public Func<IFrameSerializer>? Serializer { get; set; }
}
