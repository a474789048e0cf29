using System.Buffers.Binary;

namespace VoicePipeline.Audio;

/// <summary>
/// Reads a WAV file as a stream of s16 samples, tolerant of real files: RIFF chunks in any order,
/// <c>WAVE_FORMAT_EXTENSIBLE</c>, 8/16/24/32-bit integer and 32-bit float PCM, any channel count; a truncated file reads
/// up to its last whole sample frame.
/// </summary>
/// <remarks>
/// Hardened against corrupt input: chunk sizes are read as unsigned 32-bit, no chunk size or header field makes it
/// allocate (it reads through a fixed 16 KiB buffer), channel counts and rates are capped, and every malformed header is
/// an <see cref="AudioFormatException"/>. NAudio's <c>WaveFileReader</c> is not used: it needs a seekable stream, returns
/// bytes rather than samples, reads a streamed data chunk (size 0) as empty, takes 65535 channels as −1 and reports bad
/// files with several untyped exceptions.
/// </remarks>
public sealed class WavReader : IDisposable
{
    private const ushort FormatPcm = 1;
    private const ushort FormatFloat = 3;
    private const ushort FormatExtensible = 0xFFFE;

    /// <summary>The most channels a file may declare (a sample frame then fits the read buffer many times over).</summary>
    public const int MaxChannels = 64;

    /// <summary>The highest sample rate a file may declare, in Hz.</summary>
    public const int MaxSampleRate = 768_000;

    private const long MaxFormatChunkBytes = 1024; // real ones are 16, 18 or 40 bytes
    private const int MaxChunks = 1024;            // chunks before the data chunk

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly string _name;
    private readonly byte[] _buffer = new byte[16 * 1024];
    private long _remaining;

    /// <summary>Opens a WAV stream and reads its header.</summary>
    /// <exception cref="AudioFormatException">The stream is not a readable WAV file.</exception>
    public WavReader(Stream stream, string name = "<stream>", bool leaveOpen = false)
    {
        _stream = stream ?? throw new ArgumentNullException(nameof(stream));
        _leaveOpen = leaveOpen;
        _name = name;
        (Format, _remaining) = ReadHeader();
        DataLength = _remaining;
    }

    /// <summary>Gets the sample encoding.</summary>
    public WavFormat Format { get; }

    /// <summary>Gets the declared (or, for streamed files, remaining) length of the data chunk in bytes.</summary>
    public long DataLength { get; }

    /// <summary>Gets the duration declared by the header (<see cref="TimeSpan.MaxValue"/> for a streamed file).</summary>
    public TimeSpan Duration
    {
        get
        {
            var seconds = (double)DataLength / Format.BlockAlign / Format.SampleRate;
            return seconds >= TimeSpan.MaxValue.TotalSeconds ? TimeSpan.MaxValue : TimeSpan.FromSeconds(seconds);
        }
    }

    /// <summary>Opens a WAV file.</summary>
    /// <exception cref="AudioFormatException">Missing, empty or not WAV.</exception>
    public static WavReader Open(string path)
    {
        AudioFile.EnsureReadable(path);
        return new WavReader(File.OpenRead(path), path);
    }

    /// <summary>Reads interleaved s16 samples (whole sample frames only); returns how many were read, 0 at the end.</summary>
    public int Read(Span<short> destination)
    {
        var bytesPerSample = Format.BitsPerSample / 8;
        var frames = Math.Min(destination.Length / Format.Channels, _buffer.Length / Format.BlockAlign);
        var wanted = (int)Math.Min((long)frames * Format.BlockAlign, _remaining);
        if (wanted <= 0)
            return 0;
        var got = ReadFully(_buffer.AsSpan(0, wanted));
        got -= got % Format.BlockAlign; // a truncated file ends at its last whole sample frame
        _remaining = got < wanted ? 0 : _remaining - got;
        var samples = got / bytesPerSample;
        var source = _buffer.AsSpan(0, got);
        for (var i = 0; i < samples; i++)
        {
            var s = source.Slice(i * bytesPerSample, bytesPerSample);
            destination[i] = (Format.BitsPerSample, Format.IsFloat) switch
            {
                (8, _) => (short)((s[0] - 128) << 8),
                (16, _) => BinaryPrimitives.ReadInt16LittleEndian(s),
                (24, _) => (short)((s[1] | (s[2] << 8))),
                (32, false) => (short)(BinaryPrimitives.ReadInt32LittleEndian(s) >> 16),
                _ => Pcm.Clip(BinaryPrimitives.ReadSingleLittleEndian(s) * 32768f),
            };
        }
        return samples;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_leaveOpen)
            _stream.Dispose();
    }

    private (WavFormat, long) ReadHeader()
    {
        Span<byte> header = stackalloc byte[12];
        if (ReadFully(header) < 12 || !header[..4].SequenceEqual("RIFF"u8) || !header[8..12].SequenceEqual("WAVE"u8))
            throw new AudioFormatException(_name, "not a WAV file (no RIFF/WAVE header)");
        WavFormat? format = null;
        Span<byte> chunk = stackalloc byte[8];
        Span<byte> body = stackalloc byte[26]; // the fmt chunk's bytes that matter: the sub-format tag of WAVE_FORMAT_EXTENSIBLE ends at 26
        for (var chunks = 0; ReadFully(chunk) == 8; chunks++)
        {
            if (chunks == MaxChunks)
                throw new AudioFormatException(_name, $"corrupt WAV file (no data chunk among the first {MaxChunks} chunks)");
            var id = chunk[..4];
            long size = BinaryPrimitives.ReadUInt32LittleEndian(chunk[4..]); // RIFF sizes are unsigned 32-bit
            if (id.SequenceEqual("fmt "u8))
            {
                if (format is not null)
                    throw new AudioFormatException(_name, "corrupt WAV file (two format chunks)");
                if (size is < 16 or > MaxFormatChunkBytes)
                    throw new AudioFormatException(_name, $"corrupt WAV format chunk ({size} bytes)");
                var read = ReadFully(body[..(int)Math.Min(size, body.Length)]);
                if (read < 16)
                    throw new AudioFormatException(_name, "truncated WAV format chunk");
                format = ParseFormat(body[..read]);
                Skip(size - read + (size & 1));
            }
            else if (id.SequenceEqual("data"u8))
            {
                if (format is null)
                    throw new AudioFormatException(_name, "WAV data chunk before its format chunk");
                // Streamed writers leave 0 or 0xFFFFFFFF; then read to the end of the file.
                var length = size is 0 or uint.MaxValue ? long.MaxValue : size;
                return (format.Value, length);
            }
            else
            {
                Skip(size + (size & 1));
            }
        }
        throw new AudioFormatException(_name, format is null ? "WAV file without a format chunk" : "WAV file without a data chunk");
    }

    private WavFormat ParseFormat(ReadOnlySpan<byte> body)
    {
        var tag = BinaryPrimitives.ReadUInt16LittleEndian(body);
        var channels = BinaryPrimitives.ReadUInt16LittleEndian(body[2..]);
        var rate = BinaryPrimitives.ReadUInt32LittleEndian(body[4..]);
        var bits = BinaryPrimitives.ReadUInt16LittleEndian(body[14..]);
        if (tag == FormatExtensible && body.Length >= 26)
            tag = BinaryPrimitives.ReadUInt16LittleEndian(body[24..]); // first two bytes of the sub-format GUID
        var isFloat = tag == FormatFloat;
        if (tag is not (FormatPcm or FormatFloat) || (isFloat ? bits != 32 : bits is not (8 or 16 or 24 or 32)))
            throw new AudioFormatException(_name, $"unsupported WAV encoding (format {tag}, {bits} bits, {channels} channels)");
        if (channels is 0 or > MaxChannels)
            throw new AudioFormatException(_name, $"unsupported WAV channel count {channels} (1 to {MaxChannels})");
        if (rate is 0 or > MaxSampleRate)
            throw new AudioFormatException(_name, $"unsupported WAV sample rate {rate} Hz (1 to {MaxSampleRate})");
        return new WavFormat((int)rate, channels, bits, isFloat);
    }

    private void Skip(long count)
    {
        if (_stream.CanSeek)
        {
            // A chunk that claims to run past the end of the file ends there (some streams refuse to seek that far).
            _stream.Position = Math.Min(_stream.Position + count, _stream.Length);
            return;
        }
        while (count > 0)
        {
            var n = _stream.Read(_buffer, 0, (int)Math.Min(count, _buffer.Length));
            if (n == 0)
                return;
            count -= n;
        }
    }

    private int ReadFully(Span<byte> destination)
    {
        var total = 0;
        while (total < destination.Length)
        {
            var n = _stream.Read(destination[total..]);
            if (n == 0)
                break;
            total += n;
        }
        return total;
    }
}
