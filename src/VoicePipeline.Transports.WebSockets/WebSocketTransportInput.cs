using System.Net.WebSockets;
using VoicePipeline.Audio;
using VoicePipeline.Frames;
using VoicePipeline.Processors;
using VoicePipeline.Transports.WebSockets.Serializers;

namespace VoicePipeline.Transports.WebSockets;

/// <summary>
/// The client's messages, read whole and turned into frames by the session's <see cref="IFrameSerializer"/>: client
/// audio becomes 20 ms <see cref="InputAudioRawFrame"/>s at the pipeline's input rate (resampled with the project's
/// resampler), other frames follow in wire order. When the client closes the socket, the socket breaks, or the wire ends
/// the stream (an <see cref="EndFrame"/> from the serializer), the last partial frame (padded with silence) and an
/// <see cref="EndFrame"/> follow.
/// </summary>
internal sealed class WebSocketTransportInput(WebSocketSession session) : SourceProcessor("WebSocketTransportInput")
{
    protected override async Task PumpAsync(StartFrame start, CancellationToken cancellationToken)
    {
        var serializer = session.Serializer;
        serializer.Setup(start);
        var received = new ReceivedInput(start.AudioInSampleRate, session.Limits.OnAudio);
        var message = new byte[16 * 1024];
        var reason = "client disconnected";
        try
        {
            while (true)
            {
                var length = 0;
                var accepted = true;
                ValueWebSocketReceiveResult result;
                do
                {
                    // The session's message-size limit is the one bound: one byte past it is enough to see it broken
                    // (then the limit refuses the message and reading starts again at the buffer's start).
                    if (length == message.Length)
                        Array.Resize(ref message, Math.Min(2 * message.Length, session.Options.MaxMessageBytes + 1));
                    result = await session.Socket.ReceiveAsync(message.AsMemory(length), cancellationToken).ConfigureAwait(false);
                    // The session's limits (message size, input rate, idle): a breach closes the session with its code,
                    // and what the client still sends is dropped until its close arrives.
                    accepted &= result.MessageType == WebSocketMessageType.Close || session.Limits.OnReceived(result);
                    length = accepted ? length + result.Count : 0;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
                if (result.MessageType == WebSocketMessageType.Close)
                    break;
                if (!accepted)
                    continue;

                serializer.Deserialize(message.AsSpan(0, length), result.MessageType == WebSocketMessageType.Text ? WireMessageType.Text : WireMessageType.Binary, received);
                var ended = await PushReceivedAsync(received, cancellationToken).ConfigureAwait(false);
                if (ended is not null)
                {
                    reason = ended.Reason ?? "the client ended the stream";
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return; // the pipeline is stopping or cancelled: nothing more to send
        }
        catch (WebSocketException)
        {
            // The connection broke: end like a close.
        }
        received.Finish();
        await PushReceivedAsync(received, CancellationToken.None).ConfigureAwait(false);
        await PushFrameAsync(new EndFrame { Reason = reason }, FrameDirection.Downstream, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Pushes what the last message carried, in order; returns the end frame that stops the stream, if any.</summary>
    private async ValueTask<EndFrame?> PushReceivedAsync(ReceivedInput received, CancellationToken cancellationToken)
    {
        EndFrame? ended = null;
        foreach (var frame in received.Pending)
        {
            if (frame is EndFrame end)
            {
                ended = end;
                break; // the stream ends here: later frames of the same message are dropped with it
            }
            await PushFrameAsync(frame, FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
        }
        received.Pending.Clear();
        return ended;
    }

    /// <summary>
    /// What the serializer hands over: audio of any rate and length (a message may end half way through a sample),
    /// resampled and cut into frames at the pipeline's rate, and frames, kept in wire order.
    /// </summary>
    private sealed class ReceivedInput(int sampleRate, Func<double, bool> admit) : IDeserializedInput
    {
        private static readonly TimeSpan s_frameDuration = TimeSpan.FromMilliseconds(20);
        private readonly int _frameSamples = sampleRate / 50;
        private MonoConverter? _converter;
        private int _channels;
        private short[] _samples = new short[1024];
        private int _pendingSamples; // samples of an incomplete multi-channel frame, kept at the start of _samples
        private short[] _buffered = new short[4 * (sampleRate / 50)];
        private int _count;
        private int _carry = -1;
        private long _sent;

        public List<Frame> Pending { get; } = [];

        public void AddAudio(ReadOnlySpan<byte> bytes, int rate, int channels)
        {
            if (!admit(bytes.Length / (2.0 * rate * channels)))
                return; // faster than the input rate allows: the session is closing, the audio is dropped
            if (_converter is null || _converter.InputRate != rate || _channels != channels)
            {
                if (_converter is not null)
                    Append(_converter.Flush());
                _converter = new MonoConverter(rate, channels, sampleRate);
                _channels = channels;
                _pendingSamples = 0;
                _carry = -1;
            }
            if (_samples.Length < _pendingSamples + bytes.Length / 2 + 1)
                Array.Resize(ref _samples, _pendingSamples + bytes.Length / 2 + 1);
            var count = _pendingSamples;
            if (_carry >= 0 && !bytes.IsEmpty)
            {
                _samples[count++] = (short)(_carry | (bytes[0] << 8));
                bytes = bytes[1..];
                _carry = -1;
            }
            for (; bytes.Length >= 2; bytes = bytes[2..])
                _samples[count++] = (short)(bytes[0] | (bytes[1] << 8));
            if (!bytes.IsEmpty)
                _carry = bytes[0];

            var whole = count - count % channels;
            Append(_converter.Convert(_samples.AsSpan(0, whole)));
            _pendingSamples = count - whole;
            _samples.AsSpan(whole, _pendingSamples).CopyTo(_samples);
            TakeFrames();
        }

        public void AddFrame(Frame frame) => Pending.Add(frame);

        private void Append(ReadOnlySpan<short> mono)
        {
            if (_count + mono.Length > _buffered.Length)
                Array.Resize(ref _buffered, Math.Max(2 * _buffered.Length, _count + mono.Length));
            mono.CopyTo(_buffered.AsSpan(_count));
            _count += mono.Length;
        }

        /// <summary>Adds the resampler's tail and pads the last partial frame with silence to a whole frame.</summary>
        public void Finish()
        {
            if (_converter is not null)
                Append(_converter.Flush());
            var partial = _count % _frameSamples;
            if (partial > 0)
                Append(new short[_frameSamples - partial]);
            TakeFrames();
        }

        /// <summary>Moves every whole 20 ms frame buffered so far to <see cref="Pending"/>.</summary>
        private void TakeFrames()
        {
            var offset = 0;
            for (; _count - offset >= _frameSamples; offset += _frameSamples)
            {
                var pcm = new byte[_frameSamples * 2];
                Pcm.WriteLittleEndian(_buffered.AsSpan(offset, _frameSamples), pcm);
                Pending.Add(new InputAudioRawFrame(pcm, sampleRate) { PresentationTimestamp = s_frameDuration * _sent++ });
            }
            if (offset > 0)
            {
                _buffered.AsSpan(offset, _count - offset).CopyTo(_buffered);
                _count -= offset;
            }
        }
    }
}
