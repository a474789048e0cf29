using System.Text.Json;

namespace VoicePipeline.Frames;

/// <summary>
/// A JSON message a client sent over the transport (not audio): an RTVI message from a Pipecat client, or an event of
/// another wire that has no frame of its own. Urgent, like all transport input.
/// </summary>
public sealed class InputTransportMessageFrame : SystemFrame
{
    /// <summary>Creates the frame for one message.</summary>
    public InputTransportMessageFrame(JsonElement message) => Message = message;

    /// <summary>Gets the message (a JSON object for RTVI and Twilio).</summary>
    public JsonElement Message { get; }
}

/// <summary>
/// A JSON message for the client, sent in order with the frames around it (for example after the audio queued before it).
/// </summary>
public sealed class OutputTransportMessageFrame : DataFrame
{
    /// <summary>Creates the frame for one message.</summary>
    public OutputTransportMessageFrame(JsonElement message) => Message = message;

    /// <summary>Gets the message.</summary>
    public JsonElement Message { get; }
}

/// <summary>
/// A JSON message for the client sent at once, ahead of queued frames and never dropped by an interruption (RTVI events:
/// speaking, transcripts, bot text).
/// </summary>
public sealed class OutputTransportMessageUrgentFrame : SystemFrame
{
    /// <summary>Creates the frame for one message.</summary>
    public OutputTransportMessageUrgentFrame(JsonElement message) => Message = message;

    /// <summary>Gets the message.</summary>
    public JsonElement Message { get; }
}

/// <summary>A telephone keypad press the transport received (Twilio's <c>dtmf</c> event): <c>0</c>-<c>9</c>, <c>*</c>, <c>#</c>.</summary>
public sealed class InputDtmfFrame : SystemFrame
{
    /// <summary>Creates the frame for one key.</summary>
    public InputDtmfFrame(string digit) => Digit = digit ?? throw new ArgumentNullException(nameof(digit));

    /// <summary>Gets the key pressed.</summary>
    public string Digit { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Name}({Digit})";
}
