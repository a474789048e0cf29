using System.Buffers;
using System.IO.Pipelines;

namespace VoicePipeline.Together.Speech;

/// <summary>
/// Reads server-sent events from a stream: the <c>data:</c> lines of each event (joined by a line feed when there
/// are several), ignoring comments and other fields. Lines are parsed from a <see cref="PipeReader"/>'s buffers.
/// </summary>
/// <remarks>
/// Bounded: an event's data, and a line still waiting for its line feed, may hold at most <c>maxEventBytes</c>
/// (16 MiB by default); past that the stream is an <see cref="InvalidDataException"/>, the only error it throws for
/// what the server sent.
/// </remarks>
internal sealed class SseEventReader(Stream stream, int maxEventBytes = SseEventReader.DefaultMaxEventBytes) : IAsyncDisposable
{
    /// <summary>The default bound on an event, and on an unfinished line.</summary>
    public const int DefaultMaxEventBytes = 16 * 1024 * 1024;

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
            if (ended)
            {
                _reader.AdvanceTo(buffer.Start); // the rest may hold whole events: not examined yet
                return _data.WrittenMemory;
            }
            _reader.AdvanceTo(buffer.Start, buffer.End);
            if (buffer.Length > maxEventBytes)
                throw new InvalidDataException($"A server-sent event line is longer than {maxEventBytes} bytes without a line feed.");
            if (result.IsCompleted)
            {
                _completed = true;
                if (!buffer.IsEmpty)
                    ReadLine(buffer, ref hasData); // a last line without its line feed
                if (hasData)
                    return _data.WrittenMemory;
            }
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
            if (_data.WrittenCount + text.Length > maxEventBytes)
                throw new InvalidDataException($"A server-sent event is larger than {maxEventBytes} bytes.");
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
