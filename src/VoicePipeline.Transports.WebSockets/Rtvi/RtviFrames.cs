using System.Text.Json;
using VoicePipeline.Frames;

namespace VoicePipeline.Transports.WebSockets.Rtvi;

/// <summary>A Pipecat client's <c>client-message</c> (<c>sendClientMessage(t, d)</c>), pushed downstream by the <see cref="RtviProcessor"/>.</summary>
public sealed class RtviClientMessageFrame : SystemFrame
{
    /// <summary>Creates the frame.</summary>
    public RtviClientMessageFrame(string messageId, string type, JsonElement? data)
    {
        MessageId = messageId;
        Type = type;
        Data = data;
    }

    /// <summary>Gets the RTVI message id (a <see cref="RtviServerResponseFrame"/> answers it).</summary>
    public string MessageId { get; }

    /// <summary>Gets the application's message type (<c>t</c>).</summary>
    public string Type { get; }

    /// <summary>Gets the application's data (<c>d</c>), if any.</summary>
    public JsonElement? Data { get; }
}

/// <summary>Push this anywhere in the pipeline to send a Pipecat client an RTVI <c>server-message</c> (its <c>onServerMessage</c>).</summary>
public sealed class RtviServerMessageFrame : SystemFrame
{
    /// <summary>Creates the frame.</summary>
    public RtviServerMessageFrame(JsonElement data) => Data = data;

    /// <summary>Gets the message's data.</summary>
    public JsonElement Data { get; }
}

/// <summary>Push this to answer an <see cref="RtviClientMessageFrame"/> with an RTVI <c>server-response</c>.</summary>
public sealed class RtviServerResponseFrame : SystemFrame
{
    /// <summary>Creates the frame answering <paramref name="request"/>.</summary>
    public RtviServerResponseFrame(RtviClientMessageFrame request, JsonElement? data)
    {
        ArgumentNullException.ThrowIfNull(request);
        Request = request;
        Data = data;
    }

    /// <summary>Gets the client message answered.</summary>
    public RtviClientMessageFrame Request { get; }

    /// <summary>Gets the answer's data.</summary>
    public JsonElement? Data { get; }
}
