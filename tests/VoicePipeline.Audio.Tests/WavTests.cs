using System.Buffers.Binary;
using VoicePipeline.Tests.Shared;

namespace VoicePipeline.Audio.Tests;

public class WavTests
{
    private static readonly short[] s_samples = Enumerable.Range(0, 4000).Select(i => (short)(Math.Sin(i / 10.0) * 20000)).ToArray();

    [Fact]
    public void Writer_and_reader_round_trip()
    {
        var path = TestAudio.TempPath(".wav");
        WavWriter.WriteFile(path, s_samples, 22050, 2);

        using var reader = WavReader.Open(path);
        var read = new short[s_samples.Length + 10];
        var n = reader.Read(read);

        reader.Format.Should().Be(new WavFormat(22050, 2, 16, false));
        n.Should().Be(s_samples.Length);
        read[..n].Should().Equal(s_samples);
    }

    [Fact]
    public void A_file_is_the_canonical_44_byte_header_then_the_samples()
    {
        using var stream = new MemoryStream();
        using (var writer = new WavWriter(stream, 16_000, 2, leaveOpen: true))
        {
            writer.Write(s_samples.AsSpan(0, 1000));
            writer.Write(s_samples.AsSpan(1000));
            writer.SampleCount.Should().Be(s_samples.Length / 2);
        }

        var bytes = stream.ToArray();
        var header = new byte[WavWriter.HeaderSize];
        WavWriter.WriteHeader(header, 16_000, 2, s_samples.Length * 2);
        bytes[..WavWriter.HeaderSize].Should().Equal(header);
        bytes[WavWriter.HeaderSize..].Should().Equal(TestAudio.ToBytes(s_samples));
    }

    [Fact]
    public void A_stream_that_cannot_seek_gets_a_streamed_header_that_reads_to_the_end()
    {
        var pipe = new ForwardOnlyStream(new MemoryStream());
        using (var writer = new WavWriter(pipe, 8_000, leaveOpen: true))
            writer.Write(s_samples);

        using var reader = new WavReader(new MemoryStream(pipe.Inner.ToArray()));
        var read = new short[s_samples.Length + 10];

        reader.DataLength.Should().Be(long.MaxValue, "the sizes could not be fixed up");
        reader.Read(read).Should().Be(s_samples.Length);
        read[..s_samples.Length].Should().Equal(s_samples);
    }

    [Fact]
    public void Writing_a_frame_allocates_nothing()
    {
        using var writer = new WavWriter(new MemoryStream(new byte[1 << 20]), 16_000);
        var frame = s_samples.AsSpan(0, 320).ToArray();
        writer.Write(frame);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
            writer.Write(frame);

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
    }

    [Theory]
    [InlineData("pcm_u8", 8)]
    [InlineData("pcm_s24le", 24)]
    [InlineData("pcm_s32le", 32)]
    [InlineData("pcm_f32le", 32)]
    public void Reads_every_pcm_encoding_ffmpeg_writes(string codec, int bits)
    {
        var path = TestAudio.Encode(s_samples, 16000, TestAudio.TempPath(".wav"), 1, "-c:a", codec);

        using var reader = WavReader.Open(path);
        var read = new short[s_samples.Length];
        var n = reader.Read(read);

        reader.Format.BitsPerSample.Should().Be(bits);
        n.Should().Be(s_samples.Length);
        var tolerance = bits == 8 ? 256 : 1;
        read.Zip(s_samples).Should().OnlyContain(p => Math.Abs(p.First - p.Second) <= tolerance);
    }

    [Fact]
    public void Reads_wave_format_extensible_and_chunks_in_any_order()
    {
        // fmt (extensible, 40 bytes), then a LIST chunk, then data.
        using var stream = new MemoryStream();
        var data = TestAudio.ToBytes(s_samples);
        void U32(uint v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); stream.Write(b); }
        void U16(ushort v) { Span<byte> b = stackalloc byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, v); stream.Write(b); }
        stream.Write("RIFF"u8); U32(0); stream.Write("WAVE"u8);
        stream.Write("LIST"u8); U32(5); stream.Write("INFOx"u8); stream.WriteByte(0);
        stream.Write("fmt "u8); U32(40); U16(0xFFFE); U16(1); U32(16000); U32(32000); U16(2); U16(16);
        U16(22); U16(16); U32(4); U16(1); stream.Write(new byte[14]);
        stream.Write("data"u8); U32((uint)data.Length); stream.Write(data);
        stream.Position = 0;

        using var reader = new WavReader(stream);
        var read = new short[s_samples.Length];

        reader.Read(read).Should().Be(s_samples.Length);
        read.Should().Equal(s_samples);
    }

    [Fact]
    public void A_truncated_file_reads_up_to_its_last_whole_sample()
    {
        var path = TestAudio.TempPath(".wav");
        WavWriter.WriteFile(path, s_samples, 16000, 2);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(44 + 4 * 1000 + 3)]);

        using var reader = WavReader.Open(path);
        var read = new short[s_samples.Length];

        reader.Read(read).Should().Be(2000, "1000 whole stereo frames survive; the partial one is dropped");
        read[..2000].Should().Equal(s_samples[..2000]);
    }

    [Fact]
    public void Not_a_wav_file_is_a_clear_error()
    {
        var path = TestAudio.TempPath(".wav");
        File.WriteAllText(path, "hello");
        var act = () => WavReader.Open(path);
        act.Should().Throw<AudioFormatException>().WithMessage($"{path}: not a WAV file*");
    }
}
