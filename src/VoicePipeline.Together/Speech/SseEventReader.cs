using System.Buffers;
using System.IO.Pipelines;

namespace VoicePipeline.Together.Speech;

/// <summary>
/// Reads server-sent events from a stream: the <c>data:</c> lines of each event (joined by a line feed when there
/// are several), ignoring comments and other fields. Lines are parsed from a <see cref="PipeReader"/>'s buffers.
/// </summary>
internal sealed class SseEventReader(Stream stream) : IAsyncDisposable
{
    private const int MaxEventBytes = 16 * 1024 * 1024;
    private readonly PipeReader _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024));
    private readonly ArrayBufferWriter<byte> _data = new(16 * 1024);
    private bool _completed;

    /// <summary>Gets how many bytes were read so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>Returns the data of the next event (valid until the next call), or null at the end of the stream.</summary>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadAsync(CancellationToken cancellationToken)
    {
        _data.ResetWrittenCount();
        var hasData = false;
        while (!_completed)
        {
            var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var ended = TakeEvent(ref buffer, ref hasData);
            BytesRead += result.Buffer.Length - buffer.Length;
            _reader.AdvanceTo(buffer.Start, buffer.End);
            if (ended)
                return _data.WrittenMemory;
            if (result.IsCompleted)
            {
                _completed = true;
                if (!buffer.IsEmpty)
                    ReadLine(buffer, ref hasData); // a last line without its line feed
                if (hasData)
                    return _data.WrittenMemory;
            }
            if (_data.WrittenCount > MaxEventBytes)
                throw new InvalidDataException($"A server-sent event is larger than {MaxEventBytes / 1048576} MB.");
        }
        return null;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _reader.CompleteAsync();

    /// <summary>Consumes whole lines; true once a blank line ended an event that had data.</summary>
    private bool TakeEvent(ref ReadOnlySequence<byte> buffer, ref bool hasData)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
        {
            buffer = buffer.Slice(reader.Position);
            if (ReadLine(line, ref hasData))
                return true;
        }
        return false;
    }

    /// <summary>Handles one line; true when it is the blank line ending an event with data.</summary>
    private bool ReadLine(ReadOnlySequence<byte> line, ref bool hasData)
    {
        Span<byte> small = stackalloc byte[256];
        var length = (int)Math.Min(line.Length, int.MaxValue);
        var rented = length > small.Length ? ArrayPool<byte>.Shared.Rent(length) : null;
        try
        {
            var text = rented is null ? small[..length] : rented.AsSpan(0, length);
            line.CopyTo(text);
            if (text.EndsWith("\r"u8))
                text = text[..^1];
            if (text.IsEmpty)
                return hasData;
            if (!text.StartsWith("data:"u8))
                return false; // comments (":"), event:, id:, retry:
            text = text[5..];
            if (text.StartsWith(" "u8))
                text = text[1..];
            if (hasData)
                _data.Write("\n"u8);
            _data.Write(text);
            hasData = true;
            return false;
        }
        finally
        {
            if (rented is not null)
                ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
