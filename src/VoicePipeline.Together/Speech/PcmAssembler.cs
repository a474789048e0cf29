using System.Buffers;
using System.Buffers.Binary;
using VoicePipeline.Together.Client;

namespace VoicePipeline.Together.Speech;

/// <summary>
/// Turns the bytes of a synthesis into whole s16le samples: strips a RIFF/WAV header where one arrives (a WAV body,
/// or a model that puts one at the start of its audio deltas), checks that header's format, and carries an odd byte
/// over to the next piece so a sample split across pieces is never lost. One utterance at a time: <see cref="Reset"/>
/// starts the next one with the same buffers.
/// </summary>
internal sealed class PcmAssembler(int expectedSampleRate)
{
    private const int MaxHeaderBytes = 64 * 1024;
    private readonly ArrayBufferWriter<byte> _header = new(256);
    private readonly ArrayBufferWriter<byte> _output = new(16 * 1024);
    private bool _started;
    private bool _inHeader;
    private bool _hasCarry;
    private byte _carry;

    /// <summary>Adds bytes; returns the whole samples now available (valid until the next call).</summary>
    /// <param name="bytes">The next piece of the stream.</param>
    /// <param name="startsMessage">Whether the piece is a whole server message (an audio delta) that may begin with its own header.</param>
    /// <exception cref="TogetherApiException">A WAV header describes audio other than 16-bit mono PCM at the expected rate.</exception>
    public ReadOnlyMemory<byte> Add(ReadOnlySpan<byte> bytes, bool startsMessage)
    {
        _output.ResetWrittenCount();
        if ((startsMessage || !_started) && !_inHeader && !_hasCarry && bytes.StartsWith("RIFF"u8))
            _inHeader = true;
        _started |= !bytes.IsEmpty;
        if (_inHeader)
        {
            _header.Write(bytes);
            if (!TryEndHeader(out var dataStart))
                return ReadOnlyMemory<byte>.Empty;
            _inHeader = false;
            Emit(_header.WrittenSpan[dataStart..]);
            _header.ResetWrittenCount();
            return _output.WrittenMemory;
        }
        Emit(bytes);
        return _output.WrittenMemory;
    }

    /// <summary>Forgets the utterance so far (an unfinished header, an odd byte), keeping the buffers for the next one.</summary>
    public void Reset()
    {
        _header.ResetWrittenCount();
        _output.ResetWrittenCount();
        _started = _inHeader = _hasCarry = false;
    }

    /// <summary>Whether an odd byte or an unfinished header is left over (the stream ended mid-sample).</summary>
    public bool HasLeftover => _hasCarry || _inHeader;

    private void Emit(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
            return;
        if (_hasCarry)
        {
            var pair = _output.GetSpan(2);
            pair[0] = _carry;
            pair[1] = bytes[0];
            _output.Advance(2);
            bytes = bytes[1..];
            _hasCarry = false;
        }
        var whole = bytes.Length & ~1;
        _output.Write(bytes[..whole]);
        if (whole < bytes.Length)
        {
            _carry = bytes[^1];
            _hasCarry = true;
        }
    }

    /// <summary>Walks the RIFF chunks to the start of <c>data</c>; false while more bytes are needed.</summary>
    private bool TryEndHeader(out int dataStart)
    {
        dataStart = 0;
        var header = _header.WrittenSpan;
        if (header.Length < 12)
            return false;
        if (!header.Slice(8, 4).SequenceEqual("WAVE"u8))
            throw new TogetherApiException("The server sent a RIFF body that is not WAVE audio.");
        var position = 12;
        while (position + 8 <= header.Length)
        {
            var id = header.Slice(position, 4);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(header.Slice(position + 4, 4));
            if (id.SequenceEqual("data"u8))
            {
                dataStart = position + 8;
                return true;
            }
            if (id.SequenceEqual("fmt "u8))
            {
                if (position + 8 + 16 > header.Length)
                    break;
                CheckFormat(header.Slice(position + 8, 16));
            }
            position += 8 + (int)Math.Min(size + (size & 1), int.MaxValue - position);
        }
        if (header.Length > MaxHeaderBytes)
            throw new TogetherApiException($"The server's WAV header did not reach its data within {MaxHeaderBytes / 1024} KB.");
        return false;
    }

    private void CheckFormat(ReadOnlySpan<byte> fmt)
    {
        var format = BinaryPrimitives.ReadUInt16LittleEndian(fmt);
        var channels = BinaryPrimitives.ReadUInt16LittleEndian(fmt[2..]);
        var rate = BinaryPrimitives.ReadInt32LittleEndian(fmt[4..]);
        var bits = BinaryPrimitives.ReadUInt16LittleEndian(fmt[14..]);
        if (format != 1 || channels != 1 || bits != 16 || rate != expectedSampleRate)
        {
            throw new TogetherApiException(
                $"The server sent WAV audio as format {format}, {channels} channel(s), {bits}-bit, {rate} Hz; expected 16-bit PCM mono at {expectedSampleRate} Hz.");
        }
    }
}
