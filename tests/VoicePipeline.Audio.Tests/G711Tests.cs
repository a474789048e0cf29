using VoicePipeline.Tests.Shared;

namespace VoicePipeline.Audio.Tests;

public class G711Tests
{
    private static readonly Lazy<short[]> s_speech = new(() =>
        TestAudio.Decode(Path.Combine(TestAudio.LibriVoxDirectory, "sense_and_sensibility_01_austen_64kb-0870.wav"), 8000));

    [Theory]
    [InlineData(0, 0xFF, 0xD5)]
    [InlineData(5, 0xFE, 0xD5)]
    [InlineData(100, 0xF2, 0xD3)]
    [InlineData(-100, 0x72, 0x53)]
    [InlineData(1000, 0xCE, 0xFA)]
    [InlineData(-1000, 0x4E, 0x7A)]
    [InlineData(8000, 0xA0, 0x8A)]
    [InlineData(-8000, 0x20, 0x0A)]
    [InlineData(12345, 0x97, 0xBD)]
    [InlineData(-12345, 0x17, 0x3D)]
    [InlineData(32767, 0x80, 0xAA)]
    [InlineData(-32767, 0x00, 0x2A)]
    [InlineData(-32768, 0x00, 0x2A)] // NAudio alone wraps this one to near-silence
    public void Encoding_gives_the_codes_of_the_reference_encoder(short sample, byte mulaw, byte alaw)
    {
        var mu = new byte[1];
        var a = new byte[1];
        G711.EncodeMuLaw([sample], mu);
        G711.EncodeALaw([sample], a);

        mu[0].Should().Be(mulaw);
        a[0].Should().Be(alaw);
    }

    [Theory]
    [InlineData(0x00, -32124)]
    [InlineData(0x80, 32124)]
    [InlineData(0xFF, 0)]
    [InlineData(0xFE, 8)]
    [InlineData(0x7E, -8)]
    [InlineData(0xF0, 120)]
    [InlineData(0xA0, 7932)]
    [InlineData(0x20, -7932)]
    public void Mu_law_codes_decode_to_the_g711_values(byte code, short expected)
    {
        var pcm = new short[1];
        G711.DecodeMuLaw([code], pcm);
        pcm[0].Should().Be(expected);
    }

    [Theory]
    [InlineData(0xD5, 8)]
    [InlineData(0x55, -8)]
    [InlineData(0xAA, 32256)]
    [InlineData(0x2A, -32256)]
    [InlineData(0xD4, 24)]
    [InlineData(0x8A, 8064)]
    [InlineData(0x0A, -8064)]
    public void A_law_codes_decode_to_the_g711_values(byte code, short expected)
    {
        var pcm = new short[1];
        G711.DecodeALaw([code], pcm);
        pcm[0].Should().Be(expected);
    }

    [Fact]
    public void Every_code_survives_decoding_and_encoding_again()
    {
        var codes = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        var pcm = new short[256];
        var again = new byte[256];

        G711.DecodeMuLaw(codes, pcm);
        G711.EncodeMuLaw(pcm, again);
        // 0x7F is µ-law's "negative zero": it decodes to (about) 0, which encodes as 0xFF or 0x7F.
        again.Zip(codes).Where(p => p.Second != 0x7F).Should().OnlyContain(p => p.First == p.Second);

        G711.DecodeALaw(codes, pcm);
        G711.EncodeALaw(pcm, again);
        again.Should().Equal(codes);
    }

    [Fact]
    public void Every_sample_encodes_within_one_quantization_step()
    {
        var all = Enumerable.Range(short.MinValue, 65536).Select(i => (short)i).ToArray();
        var codes = new byte[all.Length];
        var back = new short[all.Length];
        foreach (var (encode, decode) in new (Action<short[], byte[]>, Action<byte[], short[]>)[]
                 { ((p, c) => G711.EncodeMuLaw(p, c), (c, p) => G711.DecodeMuLaw(c, p)), ((p, c) => G711.EncodeALaw(p, c), (c, p) => G711.DecodeALaw(c, p)) })
        {
            encode(all, codes);
            decode(codes, back);
            for (var i = 0; i < all.Length; i++)
            {
                // A G.711 step is about a sixteenth of the magnitude (8 or 16 near zero); both laws clip near full scale.
                var error = Math.Abs(back[i] - all[i]);
                var magnitude = Math.Abs((int)all[i]);
                var bound = magnitude < 32 ? 16 : Math.Max(16, magnitude / 16 + 8) + (magnitude > 32000 ? 700 : 0);
                error.Should().BeLessThanOrEqualTo(bound, $"sample {all[i]} came back as {back[i]}");
            }
        }
    }

    [Fact]
    public void Real_speech_survives_a_round_trip_with_telephone_quality()
    {
        var speech = s_speech.Value;
        var codes = new byte[speech.Length];
        var back = new short[speech.Length];

        G711.EncodeMuLaw(speech, codes);
        G711.DecodeMuLaw(codes, back);
        var muLawSnr = Snr(speech, back);
        G711.EncodeALaw(speech, codes);
        G711.DecodeALaw(codes, back);
        var aLawSnr = Snr(speech, back);

        speech.Length.Should().BeGreaterThan(8000, "the recording is several seconds long");
        // G.711 gives about 38 dB for speech at a normal level; anything below 30 dB is a broken codec.
        muLawSnr.Should().BeGreaterThan(30);
        aLawSnr.Should().BeGreaterThan(30);
    }

    [Fact]
    public void Coding_a_20_ms_frame_allocates_nothing()
    {
        var frame = s_speech.Value.AsSpan(8000, 160).ToArray();
        var codes = new byte[160];
        var back = new short[160];
        G711.EncodeMuLaw(frame, codes);
        G711.DecodeMuLaw(codes, back);
        G711.EncodeALaw(frame, codes);
        G711.DecodeALaw(codes, back);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            G711.EncodeMuLaw(frame, codes);
            G711.DecodeMuLaw(codes, back);
            G711.EncodeALaw(frame, codes);
            G711.DecodeALaw(codes, back);
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
    }

    [Fact]
    public void A_short_destination_is_rejected()
    {
        var act = () => G711.EncodeMuLaw(new short[160], new byte[159]);
        act.Should().Throw<ArgumentException>();
        var decode = () => G711.DecodeALaw(new byte[160], new short[80]);
        decode.Should().Throw<ArgumentException>();
    }

    private static double Snr(ReadOnlySpan<short> reference, ReadOnlySpan<short> decoded)
    {
        double signal = 0, noise = 0;
        for (var i = 0; i < reference.Length; i++)
        {
            signal += (double)reference[i] * reference[i];
            var e = (double)decoded[i] - reference[i];
            noise += e * e;
        }
        return 10 * Math.Log10(signal / noise);
    }
}
