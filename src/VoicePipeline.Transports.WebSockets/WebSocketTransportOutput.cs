using System.Buffers;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using VoicePipeline.Audio;
using VoicePipeline.Frames;
using VoicePipeline.Processors;

namespace VoicePipeline.Transports.WebSockets;

/// <summary>
/// Sends the pipeline's output to the client: audio as binary PCM s16le mono at the server's output rate (resampled
/// with the project's resampler), transcripts, spoken text and speaking events as JSON text messages (see
/// <see cref="WebSocketSession"/>). Every frame passes on.
/// </summary>
internal sealed class WebSocketTransportOutput(WebSocketSession session) : FrameProcessor("WebSocketTransportOutput")
{
    private readonly ArrayBufferWriter<byte> _json = new(256);
    private MonoConverter? _converter;
    private int _channels;

    protected override async ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        if (direction == FrameDirection.Downstream)
        {
            switch (frame)
            {
                case OutputAudioRawFrame audio:
                    await SendAudioAsync(audio, cancellationToken).ConfigureAwait(false);
                    break;
                case InterimTranscriptionFrame interim:
                    await SendEventAsync("transcript", interim.Text, final: false, cancellationToken).ConfigureAwait(false);
                    break;
                case TranscriptionFrame final:
                    await SendEventAsync("transcript", final.Text, final: true, cancellationToken).ConfigureAwait(false);
                    break;
                case TtsTextFrame spoken:
                    await SendEventAsync("bot_text", spoken.Text, final: null, cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
        await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
    }

    protected override async ValueTask ProcessSystemFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        if (direction == FrameDirection.Downstream)
        {
            var type = frame switch
            {
                UserStartedSpeakingFrame => "user_started_speaking",
                UserStoppedSpeakingFrame => "user_stopped_speaking",
                InterruptionFrame => "interruption",
                _ => null,
            };
            if (type is not null)
                await SendEventAsync(type, text: null, final: null, cancellationToken).ConfigureAwait(false);
        }
        await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask SendAudioAsync(OutputAudioRawFrame audio, CancellationToken cancellationToken)
    {
        if (_converter is null || _converter.InputRate != audio.SampleRate || _channels != audio.Channels)
        {
            _converter = new MonoConverter(audio.SampleRate, audio.Channels, session.Options.OutputSampleRate);
            _channels = audio.Channels;
        }
        var samples = MemoryMarshal.AsBytes(_converter.Convert(Pcm.AsSamples(audio.Audio.Span)));
        var length = samples.Length;
        var bytes = ArrayPool<byte>.Shared.Rent(length);
        samples.CopyTo(bytes);
        try
        {
            await session.SendAsync(bytes.AsMemory(0, length), WebSocketMessageType.Binary, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    private async ValueTask SendEventAsync(string type, string? text, bool? final, CancellationToken cancellationToken)
    {
        byte[] message;
        lock (_json) // system frames (speaking, interruption) arrive on the input loop, the rest on the process loop
        {
            _json.ResetWrittenCount();
            using (var writer = new Utf8JsonWriter(_json))
            {
                writer.WriteStartObject();
                writer.WriteString("type", type);
                if (text is not null)
                    writer.WriteString("text", text);
                if (final is { } isFinal)
                    writer.WriteBoolean("final", isFinal);
                writer.WriteEndObject();
            }
            message = _json.WrittenSpan.ToArray();
        }
        await session.SendAsync(message, WebSocketMessageType.Text, cancellationToken).ConfigureAwait(false);
    }
}
