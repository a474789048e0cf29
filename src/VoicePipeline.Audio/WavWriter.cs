using System.Buffers.Binary;

namespace VoicePipeline.Audio;

/// <summary>Writes PCM s16le WAV files as a stream; the header's sizes are fixed up when the writer is disposed.</summary>
public sealed class WavWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
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
        WriteHeader(0);
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
        if (_stream.CanSeek)
        {
            _stream.Seek(0, SeekOrigin.Begin);
            WriteHeader(_dataBytes);
            _stream.Seek(0, SeekOrigin.End);
        }
        _stream.Flush();
        if (!_leaveOpen)
            _stream.Dispose();
    }

    private void WriteHeader(long dataBytes)
    {
        Span<byte> h = stackalloc byte[44];
        var data = (uint)Math.Min(dataBytes, uint.MaxValue - 36);
        "RIFF"u8.CopyTo(h);
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], 36 + data);
        "WAVEfmt "u8.CopyTo(h[8..]);
        BinaryPrimitives.WriteInt32LittleEndian(h[16..], 16);
        BinaryPrimitives.WriteInt16LittleEndian(h[20..], 1);
        BinaryPrimitives.WriteInt16LittleEndian(h[22..], (short)Channels);
        BinaryPrimitives.WriteInt32LittleEndian(h[24..], SampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(h[28..], SampleRate * Channels * 2);
        BinaryPrimitives.WriteInt16LittleEndian(h[32..], (short)(Channels * 2));
        BinaryPrimitives.WriteInt16LittleEndian(h[34..], 16);
        "data"u8.CopyTo(h[36..]);
        BinaryPrimitives.WriteUInt32LittleEndian(h[40..], data);
        _stream.Write(h);
    }
}
