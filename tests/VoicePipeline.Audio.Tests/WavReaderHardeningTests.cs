using System.Buffers.Binary;
using CsCheck;

namespace VoicePipeline.Audio.Tests;

/// <summary>Corrupt, hostile and random WAV bytes: the reader answers with <see cref="AudioFormatException"/> or audio, in bounded memory.</summary>
public class WavReaderHardeningTests
{
    private const long AllocationBound = 64 * 1024; // the reader's 16 KiB buffer, the exception, and small change

    private static readonly byte[][] s_seeds =
    [
        Canonical(16_000, 1, 16, 1, 400),
        Canonical(22_050, 2, 16, 1, 400),
        Canonical(8_000, 1, 8, 1, 300),
        Canonical(44_100, 2, 24, 1, 600),
        Canonical(48_000, 1, 32, 1, 400),
        Canonical(24_000, 1, 32, 3, 400),
        Extensible(),
    ];

    [Theory]
    [InlineData(16, 0xFFFF_FFF0u)]  // fmt chunk size
    [InlineData(16, 0x7FFF_FFFFu)]
    [InlineData(40, 0xFFFF_FFFFu)]  // data chunk size
    [InlineData(4, 0xFFFF_FFFFu)]   // RIFF size
    [InlineData(22, 0xFFFF_0000u)]  // channels 65535 (and the rate's low bytes)
    [InlineData(24, 0xFFFF_FFFFu)]  // sample rate
    public void A_44_byte_file_with_huge_fields_allocates_almost_nothing(int offset, uint value)
    {
        var bytes = new byte[WavWriter.HeaderSize];
        WavWriter.WriteHeader(bytes, 16_000, 1, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(offset), value);

        var allocated = ReadAll(bytes, seekable: true);

        allocated.Should().BeLessThan(AllocationBound);
    }

    [Fact]
    public void A_channel_count_beyond_the_cap_is_a_clear_error()
    {
        var bytes = Canonical(16_000, 1, 16, 1, 10);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(22), 65535);

        var act = () => new WavReader(new MemoryStream(bytes), "huge.wav");

        act.Should().Throw<AudioFormatException>().WithMessage("huge.wav: unsupported WAV channel count 65535 (1 to 64)");
    }

    [Fact]
    public void A_format_chunk_of_four_gigabytes_is_a_clear_error()
    {
        var bytes = Canonical(16_000, 1, 16, 1, 10);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), uint.MaxValue);

        var act = () => new WavReader(new MemoryStream(bytes), "fmt.wav");

        act.Should().Throw<AudioFormatException>().WithMessage("fmt.wav: corrupt WAV format chunk (4294967295 bytes)");
    }

    [Fact]
    public void A_chunk_size_of_0xFFFFFFFF_is_skipped_as_unsigned_instead_of_wrapping_to_zero()
    {
        // A LIST chunk that claims 4 GiB and holds what looks like a data chunk: with the size wrapped to 0 (as 32-bit
        // arithmetic on size + pad does) the reader would read the chunk's contents as audio.
        using var stream = new MemoryStream();
        var canonical = new byte[WavWriter.HeaderSize];
        WavWriter.WriteHeader(canonical, 16_000, 1, 0);
        stream.Write(canonical.AsSpan(0, 36)); // RIFF, WAVE, fmt
        stream.Write("LIST"u8);
        stream.Write(BitConverter.GetBytes(uint.MaxValue));
        stream.Write("data"u8);
        stream.Write(BitConverter.GetBytes(4u));
        stream.Write(new byte[] { 1, 2, 3, 4 });
        stream.Position = 0;

        var act = () => new WavReader(stream, "list.wav");

        act.Should().Throw<AudioFormatException>().WithMessage("list.wav: WAV file without a data chunk");
    }

    [Fact]
    public void A_streamed_file_reports_an_unbounded_duration_instead_of_overflowing()
    {
        var bytes = Canonical(16_000, 1, 16, 1, 100);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(40), uint.MaxValue);

        using var reader = new WavReader(new MemoryStream(bytes));

        reader.Duration.Should().Be(TimeSpan.MaxValue);
        reader.Read(new short[1000]).Should().Be(100, "a streamed data chunk is read to the end of the file");
    }

    [Fact]
    public void Random_bytes_give_only_typed_errors_in_bounded_memory()
    {
        var riff = Gen.Byte.Array[0, 96].Select(tail => (byte[])[.. "RIFF"u8, 0xFF, 0xFF, 0xFF, 0xFF, .. "WAVE"u8, .. tail]);
        Gen.Select(Gen.OneOf(Gen.Byte.Array[0, 128], riff), Gen.Bool)
            .Sample((bytes, seekable) => ReadAll(bytes, seekable).Should().BeLessThan(AllocationBound), iter: 10_000, threads: 1);
    }

    [Fact]
    public void Mutated_wav_files_give_only_typed_errors_in_bounded_memory()
    {
        var mutation = Gen.Select(Gen.Int[0, 3], Gen.Int[0, 2047], Gen.Frequency((1, Gen.UInt), (2, Gen.OneOf(0u, 1u, 15u, 16u, 0x7FFF_FFFFu, 0x8000_0000u, 0xFFFF_FFFEu, uint.MaxValue))));
        Gen.Select(Gen.Int[0, s_seeds.Length - 1], mutation.Array[1, 4], Gen.Bool)
            .Sample((seed, mutations, seekable) =>
            {
                var bytes = Mutate(s_seeds[seed], mutations);
                ReadAll(bytes, seekable).Should().BeLessThan(AllocationBound);
            }, iter: 10_000, threads: 1, print: t => $"seed {t.Item1}, mutations {string.Join(' ', t.Item2.Select(m => $"{m.Item1}@{m.Item2}={m.Item3:X8}"))}, seekable {t.Item3}");
    }

    /// <summary>Opens and reads everything; returns the bytes allocated. Only <see cref="AudioFormatException"/> may escape the reader.</summary>
    private static long ReadAll(byte[] bytes, bool seekable)
    {
        Stream stream = seekable ? new MemoryStream(bytes) : new ForwardOnlyStream(new MemoryStream(bytes));
        var buffer = new short[4096];
        var before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            using var reader = new WavReader(stream);
            _ = reader.Duration;
            var total = 0L;
            int n;
            while ((n = reader.Read(buffer)) > 0)
                total += n;
            total.Should().BeLessThanOrEqualTo(bytes.Length, "no more samples than bytes can come out of a file");
        }
        catch (AudioFormatException)
        {
        }
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private static byte[] Mutate(byte[] seed, (int Kind, int Position, uint Value)[] mutations)
    {
        var bytes = new List<byte>(seed);
        foreach (var (kind, position, value) in mutations)
        {
            var at = bytes.Count == 0 ? 0 : position % bytes.Count;
            switch (kind)
            {
                case 0: // one byte
                    if (bytes.Count > 0)
                        bytes[at] = (byte)value;
                    break;
                case 1: // a 32-bit field, such as a chunk size, aligned as the header's fields are
                    at -= at % 2;
                    for (var i = 0; i < 4 && at + i < bytes.Count; i++)
                        bytes[at + i] = (byte)(value >> (8 * i));
                    break;
                case 2: // truncation
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                default: // insertion
                    bytes.InsertRange(at, BitConverter.GetBytes(value));
                    break;
            }
        }
        return [.. bytes];
    }

    private static byte[] Canonical(int rate, int channels, int bits, short formatTag, int frames)
    {
        var data = frames * channels * bits / 8;
        var bytes = new byte[WavWriter.HeaderSize + data];
        WavWriter.WriteHeader(bytes, rate, channels, data, bits, formatTag);
        new Random(rate + bits).NextBytes(bytes.AsSpan(WavWriter.HeaderSize));
        return bytes;
    }

    private static byte[] Extensible()
    {
        // RIFF, a LIST chunk, a 40-byte WAVE_FORMAT_EXTENSIBLE fmt chunk, data.
        using var stream = new MemoryStream();
        void U32(uint v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); stream.Write(b); }
        void U16(ushort v) { Span<byte> b = stackalloc byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, v); stream.Write(b); }
        stream.Write("RIFF"u8); U32(0); stream.Write("WAVE"u8);
        stream.Write("LIST"u8); U32(5); stream.Write("INFOx"u8); stream.WriteByte(0);
        stream.Write("fmt "u8); U32(40); U16(0xFFFE); U16(2); U32(16000); U32(64000); U16(4); U16(16);
        U16(22); U16(16); U32(3); U16(1); stream.Write(new byte[14]);
        stream.Write("data"u8); U32(800); stream.Write(new byte[800]);
        return stream.ToArray();
    }
}
