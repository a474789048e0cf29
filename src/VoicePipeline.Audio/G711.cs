using NAudio.Codecs;

namespace VoicePipeline.Audio;

/// <summary>
/// G.711 µ-law and A-law (8-bit telephony audio, as Twilio Media Streams carry it) for PCM s16 spans, on NAudio's
/// codecs. No call allocates.
/// </summary>
/// <remarks>
/// NAudio's encoders negate the sample in 16 bits, so −32768 wraps to itself and encodes as near-silence; it is encoded
/// as −32767 here (the same G.711 code the reference encoder gives). NAudio rounds a negative sample that falls exactly on
/// a quantization boundary towards the larger magnitude where the reference (Sun's g711.c) rounds towards the smaller
/// one; both are within one step, and every code decodes to the G.711 value.
/// </remarks>
public static class G711
{
    /// <summary>Encodes PCM s16 samples as µ-law bytes, one byte per sample.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <paramref name="pcm"/>.</exception>
    public static void EncodeMuLaw(ReadOnlySpan<short> pcm, Span<byte> destination)
    {
        Pcm.EnsureLength(pcm.Length, destination.Length);
        for (var i = 0; i < pcm.Length; i++)
            destination[i] = MuLawEncoder.LinearToMuLawSample(Math.Max(pcm[i], (short)-short.MaxValue));
    }

    /// <summary>Decodes µ-law bytes to PCM s16 samples, one sample per byte.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <paramref name="ulaw"/>.</exception>
    public static void DecodeMuLaw(ReadOnlySpan<byte> ulaw, Span<short> destination)
    {
        Pcm.EnsureLength(ulaw.Length, destination.Length);
        MuLawDecoder.Decode(ulaw, destination);
    }

    /// <summary>Encodes PCM s16 samples as A-law bytes, one byte per sample.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <paramref name="pcm"/>.</exception>
    public static void EncodeALaw(ReadOnlySpan<short> pcm, Span<byte> destination)
    {
        Pcm.EnsureLength(pcm.Length, destination.Length);
        for (var i = 0; i < pcm.Length; i++)
            destination[i] = ALawEncoder.LinearToALawSample(Math.Max(pcm[i], (short)-short.MaxValue));
    }

    /// <summary>Decodes A-law bytes to PCM s16 samples, one sample per byte.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <paramref name="alaw"/>.</exception>
    public static void DecodeALaw(ReadOnlySpan<byte> alaw, Span<short> destination)
    {
        Pcm.EnsureLength(alaw.Length, destination.Length);
        ALawDecoder.Decode(alaw, destination);
    }
}
