using System.Buffers;
using System.Runtime.InteropServices;
using VoicePipeline.Frames;

namespace VoicePipeline.Transports.WebSockets.Serializers;

/// <summary>
/// The project's own wire (the browser page at <c>/</c> speaks it): binary messages of PCM s16le mono in, at
/// <see cref="InputSampleRate"/>, any length; binary PCM s16le mono out at <see cref="OutputSampleRate"/>, and JSON text
/// events: <c>{"type":"transcript","text":..,"final":..}</c>, <c>{"type":"bot_text","text":..}</c>,
/// <c>{"type":"user_started_speaking"}</c>, <c>{"type":"user_stopped_speaking"}</c> and <c>{"type":"interruption"}</c>.
/// Text messages from the client are ignored.
/// </summary>
public sealed class RawPcmSerializer : IFrameSerializer
{
    private readonly OutputAudioConverter _audio;

    /// <summary>Creates the serializer for the given client rates.</summary>
    public RawPcmSerializer(int inputSampleRate = 16_000, int outputSampleRate = 24_000)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSampleRate);
        InputSampleRate = inputSampleRate;
        _audio = new OutputAudioConverter(outputSampleRate);
    }

    /// <summary>Gets the rate of the audio the client sends.</summary>
    public int InputSampleRate { get; }

    /// <summary>Gets the rate of the audio sent to the client.</summary>
    public int OutputSampleRate => _audio.OutputRate;

    /// <inheritdoc />
    public void Setup(StartFrame start)
    {
    }

    /// <inheritdoc />
    public void Deserialize(ReadOnlySpan<byte> message, WireMessageType type, IDeserializedInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (type == WireMessageType.Binary)
            input.AddAudio(message, InputSampleRate, 1);
    }

    /// <inheritdoc />
    public ValueTask SerializeAsync(Frame frame, IWireWriter writer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        return frame switch
        {
            OutputAudioRawFrame audio => SendAudioAsync(audio, writer, cancellationToken),
            InterimTranscriptionFrame interim => SendEventAsync(writer, "transcript", interim.Text, final: false, cancellationToken),
            TranscriptionFrame final => SendEventAsync(writer, "transcript", final.Text, final: true, cancellationToken),
            TtsTextFrame spoken => SendEventAsync(writer, "bot_text", spoken.Text, final: null, cancellationToken),
            UserStartedSpeakingFrame => SendEventAsync(writer, "user_started_speaking", text: null, final: null, cancellationToken),
            UserStoppedSpeakingFrame => SendEventAsync(writer, "user_stopped_speaking", text: null, final: null, cancellationToken),
            InterruptionFrame => SendEventAsync(writer, "interruption", text: null, final: null, cancellationToken),
            _ => ValueTask.CompletedTask,
        };
    }

    private ValueTask SendAudioAsync(OutputAudioRawFrame audio, IWireWriter writer, CancellationToken cancellationToken)
    {
        var samples = MemoryMarshal.AsBytes(_audio.Convert(audio));
        var length = samples.Length;
        var bytes = ArrayPool<byte>.Shared.Rent(length);
        samples.CopyTo(bytes);
        return WireJson.SendRentedAsync(writer, bytes, length, WireMessageType.Binary, cancellationToken);
    }

    private static ValueTask SendEventAsync(IWireWriter writer, string type, string? text, bool? final, CancellationToken cancellationToken)
    {
        var message = WireJson.Write((type, text, final), static (writer, e) =>
        {
            writer.WriteStartObject();
            writer.WriteString("type", e.type);
            if (e.text is not null)
                writer.WriteString("text", e.text);
            if (e.final is { } isFinal)
                writer.WriteBoolean("final", isFinal);
            writer.WriteEndObject();
        });
        return writer.SendAsync(message, WireMessageType.Text, cancellationToken);
    }
}
