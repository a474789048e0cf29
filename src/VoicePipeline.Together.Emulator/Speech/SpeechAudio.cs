using System.Buffers.Binary;
using VoicePipeline.Audio;
using VoicePipeline.Together.Emulator.Synthesis;

namespace VoicePipeline.Together.Emulator.Speech;

/// <summary>A synthesized utterance: PCM s16le mono at <see cref="SampleRate"/> and word timings.</summary>
internal sealed record SynthesizedSpeech(byte[] Pcm, int SampleRate, IReadOnlyList<SynthesizedWord> Words);

/// <summary>
/// Speech for the emulator's endpoints: the engine's audio (espeak-ng's is 22050 Hz) resampled to the models' 24 kHz with
/// the pipeline's own resampler, then to the asked rate; and the encodings the endpoints answer with.
/// </summary>
internal static class SpeechAudio
{
    public const int ModelSampleRate = 24_000;

    private static readonly Lazy<EspeakSpeechSynthesizer> s_default = new(() => new EspeakSpeechSynthesizer());

    /// <summary>Synthesizes <paramref name="text"/> with <paramref name="voice"/> of <paramref name="model"/>.</summary>
    /// <exception cref="NotSupportedException">The engine does not speak the language.</exception>
    public static SynthesizedSpeech Synthesize(TogetherEmulatorOptions options, string text, string model, EmulatedVoice voice, double? speed, string? language, int sampleRate)
    {
        var engine = options.SpeechSynthesizer ?? s_default.Value;
        var speech = engine.Synthesize(new SynthesisRequest(text, model, voice.Id, voice.Female, voice.British, language, speed ?? 1.0));
        var samples = Resample(speech.Samples, speech.SampleRate, ModelSampleRate);
        if (sampleRate != ModelSampleRate)
            samples = Resample(samples, ModelSampleRate, sampleRate);
        var pcm = new byte[samples.Length * 2];
        Pcm.WriteLittleEndian(samples, pcm);
        return new SynthesizedSpeech(pcm, sampleRate, speech.Words);
    }

    /// <summary>Resamples a whole utterance, without the filter's delay, to <c>round(n * to / from)</c> samples.</summary>
    private static short[] Resample(short[] input, int from, int to)
    {
        if (from == to)
            return input;
        var resampler = new StreamingResampler(from, to);
        var buffer = new short[resampler.GetMaxOutputLength(input.Length) + resampler.GetMaxOutputLength(resampler.TapsPerPhase * 2) + 1024];
        var written = resampler.Process(input, buffer);
        written += resampler.Flush(buffer.AsSpan(written));
        var delay = (int)Math.Round(resampler.DelayInOutputSamples);
        var length = (int)Math.Round((long)input.Length * to / (double)from);
        var output = new short[length];
        buffer.AsSpan(Math.Min(delay, written), Math.Max(0, Math.Min(length, written - delay))).CopyTo(output);
        return output;
    }

    /// <summary>A 44-byte WAV header for <paramref name="dataBytes"/> of audio in <paramref name="encoding"/>.</summary>
    public static byte[] WavHeader(string encoding, int sampleRate, int dataBytes)
    {
        var (bits, format) = encoding switch { "pcm_f32le" => (32, (short)3), "pcm_mulaw" => (8, (short)7), "pcm_alaw" => (8, (short)6), _ => (16, (short)1) };
        var header = new byte[WavWriter.HeaderSize];
        WavWriter.WriteHeader(header, sampleRate, 1, dataBytes, bits, format);
        return header;
    }

    /// <summary>Re-encodes PCM s16le as <paramref name="encoding"/> (<c>pcm_s16le</c>, <c>pcm_f32le</c>, <c>pcm_mulaw</c>, <c>pcm_alaw</c>).</summary>
    public static byte[] Encode(byte[] s16le, string encoding)
    {
        var samples = Pcm.AsSamples(s16le);
        switch (encoding)
        {
            case "pcm_s16le":
                return s16le;
            case "pcm_f32le":
                var f32 = new byte[samples.Length * 4];
                for (var i = 0; i < samples.Length; i++)
                    BinaryPrimitives.WriteSingleLittleEndian(f32.AsSpan(i * 4), samples[i] / 32768f);
                return f32;
            case "pcm_mulaw":
                var mulaw = new byte[samples.Length];
                for (var i = 0; i < samples.Length; i++)
                    mulaw[i] = G711.MuLaw(samples[i]);
                return mulaw;
            case "pcm_alaw":
                var alaw = new byte[samples.Length];
                for (var i = 0; i < samples.Length; i++)
                    alaw[i] = G711.ALaw(samples[i]);
                return alaw;
            default:
                throw new ArgumentException($"Unknown encoding '{encoding}'.", nameof(encoding));
        }
    }

    /// <summary>Bytes per sample of <paramref name="encoding"/>.</summary>
    public static int BytesPerSample(string encoding) => encoding switch { "pcm_f32le" => 4, "pcm_mulaw" or "pcm_alaw" => 1, _ => 2 };

    /// <summary>Encodes to MP3 with ffmpeg (installed with the project's system packages).</summary>
    /// <exception cref="InvalidOperationException">ffmpeg is missing or failed.</exception>
    public static async Task<byte[]> EncodeMp3Async(byte[] s16le, int sampleRate, CancellationToken cancellationToken)
    {
        var start = new System.Diagnostics.ProcessStartInfo("ffmpeg")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-hide_banner", "-loglevel", "error", "-f", "s16le", "-ar", sampleRate.ToString(System.Globalization.CultureInfo.InvariantCulture), "-ac", "1", "-i", "pipe:0", "-f", "mp3", "pipe:1" })
            start.ArgumentList.Add(argument);
        using var process = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException("ffmpeg did not start.");
        try
        {
            var output = new MemoryStream();
            var reading = process.StandardOutput.BaseStream.CopyToAsync(output, cancellationToken);
            var errors = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.StandardInput.BaseStream.WriteAsync(s16le, cancellationToken).ConfigureAwait(false);
            process.StandardInput.Close();
            await reading.ConfigureAwait(false);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            if (process.ExitCode != 0)
                throw new InvalidOperationException("ffmpeg failed to encode MP3: " + await errors.ConfigureAwait(false));
            return output.ToArray();
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
    }
}

/// <summary>G.711 mu-law and A-law encoders, as the reference implementation (Sun's g711.c) computes them.</summary>
internal static class G711
{
    private static readonly int[] s_muLawSegmentEnds = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
    private static readonly int[] s_aLawSegmentEnds = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];

    public static byte MuLaw(short sample)
    {
        var value = sample >> 2; // 14-bit
        var mask = 0xFF;
        if (value < 0)
        {
            value = -value;
            mask = 0x7F;
        }
        value = Math.Min(value, 8159) + 0x21; // clip, add the bias
        var segment = Segment(value, s_muLawSegmentEnds);
        return segment >= 8 ? (byte)(0x7F ^ mask) : (byte)(((segment << 4) | ((value >> (segment + 1)) & 0x0F)) ^ mask);
    }

    public static byte ALaw(short sample)
    {
        var value = sample >> 3; // 13-bit
        var mask = 0xD5;
        if (value < 0)
        {
            mask = 0x55;
            value = -value - 1;
        }
        var segment = Segment(value, s_aLawSegmentEnds);
        if (segment >= 8)
            return (byte)(0x7F ^ mask);
        var code = (segment << 4) | ((segment < 2 ? value >> 1 : value >> segment) & 0x0F);
        return (byte)(code ^ mask);
    }

    private static int Segment(int value, int[] ends)
    {
        for (var i = 0; i < ends.Length; i++)
        {
            if (value <= ends[i])
                return i;
        }
        return ends.Length;
    }
}
