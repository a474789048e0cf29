using System.Buffers.Binary;

namespace VoicePipeline.Audio.Tests;

/// <summary>WAV files built byte by byte, for what <see cref="WavWriter"/> does not write.</summary>
internal static class TestWav
{
    /// <summary>RIFF, a LIST chunk (odd-sized, padded), a 40-byte <c>WAVE_FORMAT_EXTENSIBLE</c> fmt chunk of 16-bit PCM, then data.</summary>
    public static byte[] Extensible(ushort channels, uint sampleRate, ReadOnlySpan<byte> data)
    {
        using var stream = new MemoryStream();
        void U32(uint v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); stream.Write(b); }
        void U16(ushort v) { Span<byte> b = stackalloc byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, v); stream.Write(b); }
        var blockAlign = (ushort)(channels * 2);
        stream.Write("RIFF"u8); U32(0); stream.Write("WAVE"u8);
        stream.Write("LIST"u8); U32(5); stream.Write("INFOx"u8); stream.WriteByte(0);
        stream.Write("fmt "u8); U32(40); U16(0xFFFE); U16(channels); U32(sampleRate); U32(sampleRate * blockAlign); U16(blockAlign); U16(16);
        U16(22); U16(16); U32(channels == 1 ? 4u : 3u); U16(1); stream.Write(new byte[14]);
        stream.Write("data"u8); U32((uint)data.Length); stream.Write(data);
        return stream.ToArray();
    }
}
