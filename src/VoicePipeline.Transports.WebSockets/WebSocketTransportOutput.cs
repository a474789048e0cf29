using System.Buffers;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using VoicePipeline.Audio;
using VoicePipeline.Frames;

namespace VoicePipeline.Transports.WebSockets;

/// <summary>
/// Sends the pipeline's output to the client: audio as binary PCM s16le mono at the server's output rate (resampled
/// with the project's resampler), played out in real time in 20 ms chunks by the <see cref="OutputTransport"/> base,
/// transcripts, spoken text (as it plays) and speaking events as JSON text messages (see <see cref="WebSocketSession"/>).
/// Every frame passes on.
/// </summary>
internal sealed class WebSocketTransportOutput(WebSocketSession session) : OutputTransport(name: "WebSocketTransportOutput")
{
    private readonly ArrayBufferWriter<byte> _json = new(256);
    private MonoConverter? _converter;
    private int _channels;

    protected override async ValueTask OnFrameOutAsync(Frame frame, CancellationToken cancellationToken)
    {
        var type = frame switch
        {
            InterimTranscriptionFrame or TranscriptionFrame => "transcript",
            TtsTextFrame => "bot_text",
            UserStartedSpeakingFrame => "user_started_speaking",
            UserStoppedSpeakingFrame => "user_stopped_speaking",
            _ => null,
        };
        if (type is not null)
        {
            var text = (frame as TextFrame)?.Text;
            bool? final = frame switch { InterimTranscriptionFrame => false, TranscriptionFrame => true, _ => null };
            await SendEventAsync(type, text, final, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The base dropped its queued audio: the client drops what it holds (the page stops playback).</summary>
    protected override ValueTask OnPlaybackInterruptedAsync(CancellationToken cancellationToken)
        => SendEventAsync("interruption", text: null, final: null, cancellationToken);

    protected override async ValueTask WriteAudioAsync(ReadOnlyMemory<byte> audio, int sampleRate, int channels, CancellationToken cancellationToken)
    {
        if (_converter is null || _converter.InputRate != sampleRate || _channels != channels)
        {
            _converter = new MonoConverter(sampleRate, channels, session.Options.OutputSampleRate);
            _channels = channels;
        }
        var samples = MemoryMarshal.AsBytes(_converter.Convert(Pcm.AsSamples(audio.Span)));
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
