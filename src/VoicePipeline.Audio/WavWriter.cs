using System.Buffers.Binary;
using NAudio.Wave;

namespace VoicePipeline.Audio;

/// <summary>
/// Writes PCM s16le WAV files as a stream; the header's sizes are fixed up when the writer is disposed. A seekable
/// stream is written by NAudio's <see cref="WaveFileWriter"/> (the canonical 44-byte header; more than 4 GiB of audio,
/// the RIFF limit, is an <see cref="ArgumentException"/>); a stream that cannot seek (a pipe, a socket) gets a streamed
/// header, whose sizes readers take as "to the end", since NAudio's writer cannot write one.
/// </summary>
public sealed class WavWriter : IDisposable
{
    /// <summary>The size of the canonical header <see cref="WriteHeader(Span{byte}, int, int, long, int, short)"/> writes.</summary>
    public const int HeaderSize = 44;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly WaveFileWriter? _writer; // null for a stream that cannot seek
    private long _dataBytes;

    /// <summary>Starts a WAV stream with the given rate and channel count.</summary>
    public WavWriter(Stream stream, int sampleRate, int channels = 1, bool leaveOpen = false)
    {
        _stream = stream ?? throw new ArgumentNullException(nameof(stream));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleRate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        _leaveOpen = leaveOpen;
        SampleRate = sampleRate;
        Channels = channels;
        if (stream.CanSeek)
        {
            _writer = new WaveFileWriter(stream, new WaveFormat(sampleRate, 16, channels)); // leaves the stream open
        }
        else
        {
            Span<byte> header = stackalloc byte[HeaderSize];
            WriteHeader(header, SampleRate, Channels, 0);
            _stream.Write(header);
        }
    }

    /// <summary>Gets the sample rate.</summary>
    public int SampleRate { get; }

    /// <summary>Gets the channel count.</summary>
    public int Channels { get; }

    /// <summary>Gets how many samples (per channel) were written so far.</summary>
    public long SampleCount => _dataBytes / (2 * Channels);

    /// <summary>Appends interleaved s16 samples.</summary>
    public void Write(ReadOnlySpan<short> samples) => WriteBytes(Pcm.AsBytes(samples));

    /// <summary>Appends interleaved s16le bytes.</summary>
    public void WriteBytes(ReadOnlySpan<byte> s16le)
    {
        if (_writer is not null)
            _writer.Write(s16le);
        else
            _stream.Write(s16le);
        _dataBytes += s16le.Length;
    }

    /// <summary>Writes a whole WAV file.</summary>
    public static void WriteFile(string path, ReadOnlySpan<short> samples, int sampleRate, int channels = 1)
    {
        using var writer = new WavWriter(File.Create(path), sampleRate, channels);
        writer.Write(samples);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_writer is not null)
            _writer.Dispose(); // fixes up the header's sizes and flushes
        else
            _stream.Flush();
        if (!_leaveOpen)
            _stream.Dispose();
    }

    /// <summary>
    /// Writes a canonical 44-byte RIFF/WAVE header (<c>fmt </c> then <c>data</c>) for <paramref name="dataBytes"/> of audio;
    /// sizes beyond 4 GiB are clamped.
    /// </summary>
    /// <param name="destination">At least <see cref="HeaderSize"/> bytes.</param>
    /// <param name="sampleRate">The sample rate.</param>
    /// <param name="channels">The channel count.</param>
    /// <param name="dataBytes">The length of the data chunk.</param>
    /// <param name="bitsPerSample">16 for PCM s16le, 32 for float, 8 for G.711.</param>
    /// <param name="formatTag">1 PCM, 3 IEEE float, 6 A-law, 7 µ-law.</param>
    public static void WriteHeader(Span<byte> destination, int sampleRate, int channels, long dataBytes, int bitsPerSample = 16, short formatTag = 1)
    {
        var h = destination[..HeaderSize];
        var data = (uint)Math.Min(dataBytes, uint.MaxValue - 36);
        var blockAlign = channels * bitsPerSample / 8;
        "RIFF"u8.CopyTo(h);
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], 36 + data);
        "WAVEfmt "u8.CopyTo(h[8..]);
        BinaryPrimitives.WriteInt32LittleEndian(h[16..], 16);
        BinaryPrimitives.WriteInt16LittleEndian(h[20..], formatTag);
        BinaryPrimitives.WriteInt16LittleEndian(h[22..], (short)channels);
        BinaryPrimitives.WriteInt32LittleEndian(h[24..], sampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(h[28..], sampleRate * blockAlign);
        BinaryPrimitives.WriteInt16LittleEndian(h[32..], (short)blockAlign);
        BinaryPrimitives.WriteInt16LittleEndian(h[34..], (short)bitsPerSample);
        "data"u8.CopyTo(h[36..]);
        BinaryPrimitives.WriteUInt32LittleEndian(h[40..], data);
    }
}
