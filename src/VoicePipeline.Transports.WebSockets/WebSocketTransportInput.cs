using System.Net.WebSockets;
using VoicePipeline.Audio;
using VoicePipeline.Frames;
using VoicePipeline.Processors;

namespace VoicePipeline.Transports.WebSockets;

/// <summary>
/// The client's audio: binary messages of PCM s16le mono (any length) become 20 ms <see cref="InputAudioRawFrame"/>s at
/// the pipeline's input rate (resampled with the project's resampler). When the client closes the socket, or it
/// breaks, the last partial frame (padded with silence) and an <see cref="EndFrame"/> follow. Text messages are ignored.
/// </summary>
internal sealed class WebSocketTransportInput(WebSocketSession session) : SourceProcessor("WebSocketTransportInput")
{
    protected override async Task PumpAsync(StartFrame start, CancellationToken cancellationToken)
    {
        var sampleRate = start.AudioInSampleRate;
        var audio = new ClientAudio(new MonoConverter(session.Options.InputSampleRate, 1, sampleRate), sampleRate / 50);
        var frameDuration = TimeSpan.FromMilliseconds(20);
        long sent = 0;
        var message = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var received = await session.Socket.ReceiveAsync(message.AsMemory(), cancellationToken).ConfigureAwait(false);
                if (received.MessageType == WebSocketMessageType.Close)
                    break;
                if (!session.Limits.OnReceived(received))
                    continue; // a limit (message size, input rate) closed the session: drop input until the client's close
                if (received.MessageType != WebSocketMessageType.Binary)
                    continue;
                audio.Add(message.AsSpan(0, received.Count));
                while (audio.TakeFrame() is { } pcm)
                {
                    var frame = new InputAudioRawFrame(pcm, sampleRate) { PresentationTimestamp = frameDuration * sent++ };
                    await PushFrameAsync(frame, FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
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
        audio.Finish();
        while (audio.TakeFrame() is { } pcm)
            await PushFrameAsync(new InputAudioRawFrame(pcm, sampleRate) { PresentationTimestamp = frameDuration * sent++ }, FrameDirection.Downstream, CancellationToken.None).ConfigureAwait(false);
        await PushFrameAsync(new EndFrame { Reason = "client disconnected" }, FrameDirection.Downstream, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>The client's bytes (a message may end half way through a sample), resampled and cut into frames.</summary>
    private sealed class ClientAudio(MonoConverter converter, int frameSamples)
    {
        private short[] _samples = new short[1024];
        private short[] _buffered = new short[4 * frameSamples];
        private int _count;
        private int _carry = -1;

        public void Add(ReadOnlySpan<byte> bytes)
        {
            if (_samples.Length < bytes.Length / 2 + 1)
                _samples = new short[bytes.Length / 2 + 1];
            var count = 0;
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

            Append(converter.Convert(_samples.AsSpan(0, count)));
        }

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
            Append(converter.Flush());
            var partial = _count % frameSamples;
            if (partial > 0)
                Append(new short[frameSamples - partial]);
        }

        /// <summary>The next whole 20 ms frame as PCM s16le, or null until enough audio arrived.</summary>
        public byte[]? TakeFrame()
        {
            if (_count < frameSamples)
                return null;
            var pcm = new byte[frameSamples * 2];
            Pcm.WriteLittleEndian(_buffered.AsSpan(0, frameSamples), pcm);
            _buffered.AsSpan(frameSamples, _count - frameSamples).CopyTo(_buffered);
            _count -= frameSamples;
            return pcm;
        }
    }
}
