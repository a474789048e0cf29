using VoicePipeline.Frames;
using VoicePipeline.Testing;
using VoicePipeline.Tests.Shared;
using VoicePipeline.Vad;

namespace VoicePipeline.Vad.Silero.Tests;

/// <summary>A speech segment in audio seconds.</summary>
internal readonly record struct Segment(double Start, double End);

/// <summary>Speech fixtures with known segments, and a runner that turns VAD frames into segments.</summary>
internal static class VadFixtures
{
    private static readonly string[] s_sentences =
    [
        "The weather is lovely today.",
        "Please send the report before noon.",
        "Thank you very much for your help.",
    ];

    /// <summary>espeak-ng sentences separated by 1.2 s of silence, with their true speech spans.</summary>
    public static readonly Lazy<(short[] Audio, Segment[] Truth)> Espeak = new(() => Join(s_sentences.Select(s => TestAudio.Speak(s, 16000)).ToArray(), 1.2));

    /// <summary>The LibriVox recordings of pocketsphinx-testdata separated by 1.2 s of silence, with their true speech spans.</summary>
    public static readonly Lazy<(short[] Audio, Segment[] Truth)> LibriVox = new(() =>
        Join(Directory.GetFiles(TestAudio.LibriVoxDirectory, "*.wav").Order().Take(3).Select(f => TestAudio.Decode(f, 16000)).ToArray(), 1.2));

    /// <summary>Joins clips with silence; the truth of each clip spans its first to last 10 ms above -40 dBFS.</summary>
    private static (short[], Segment[]) Join(short[][] clips, double gapSeconds)
    {
        var audio = new List<short>();
        var truth = new List<Segment>();
        foreach (var clip in clips)
        {
            audio.AddRange(TestAudio.Silence(gapSeconds));
            var (first, last) = SpeechSpan(clip);
            truth.Add(new Segment((audio.Count + first) / 16000.0, (audio.Count + last) / 16000.0));
            audio.AddRange(clip);
        }
        audio.AddRange(TestAudio.Silence(gapSeconds));
        return (audio.ToArray(), truth.ToArray());
    }

    private static (int First, int Last) SpeechSpan(short[] clip)
    {
        const int hop = 160;
        var loud = Enumerable.Range(0, clip.Length / hop)
            .Where(i => Audio.Pcm.Dbfs(clip.AsSpan(i * hop, hop)) > -40)
            .ToArray();
        return (loud.First() * hop, (loud.Last() + 1) * hop);
    }

    /// <summary>
    /// Where a clip's speech begins and ends by its own envelope: the first and last 10 ms frame within 25 dB of the
    /// loudest, after a 150 Hz high-pass that leaves the voice and removes the rumble some recordings begin with.
    /// </summary>
    public static Segment SpeechEnvelope(short[] clean, int sampleRate)
    {
        // A second-order Butterworth high-pass (the audio EQ cookbook's).
        var w0 = 2 * Math.PI * 150 / sampleRate;
        var alpha = Math.Sin(w0) / (2 * Math.Sqrt(0.5));
        var cos = Math.Cos(w0);
        var a0 = 1 + alpha;
        double b0 = (1 + cos) / 2 / a0, b1 = -(1 + cos) / a0, b2 = (1 + cos) / 2 / a0, a1 = -2 * cos / a0, a2 = (1 - alpha) / a0;
        double z1 = 0, z2 = 0;
        var hop = sampleRate / 100;
        var levels = new double[clean.Length / hop];
        for (var f = 0; f < levels.Length; f++)
        {
            double sum = 0;
            for (var i = f * hop; i < (f + 1) * hop; i++)
            {
                var y = b0 * clean[i] + z1;
                z1 = b1 * clean[i] - a1 * y + z2;
                z2 = b2 * clean[i] - a2 * y;
                sum += y * y;
            }
            levels[f] = 10 * Math.Log10(sum / hop + 1e-9);
        }
        var threshold = levels.Max() - 25;
        var first = Array.FindIndex(levels, l => l > threshold);
        var last = Array.FindLastIndex(levels, l => l > threshold);
        return new Segment(first / 100.0, (last + 1) / 100.0);
    }

    /// <summary>
    /// Noise from sox's synthesizer (<c>whitenoise</c>, <c>pinknoise</c>; repeatable: <c>sox -R</c>), scaled to an RMS
    /// level of <paramref name="dbfs"/>.
    /// </summary>
    public static short[] Noise(string kind, double dbfs, int samples, int sampleRate)
    {
        var raw = TestAudio.TempPath(".raw");
        var rate = sampleRate.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var seconds = ((double)samples / sampleRate + 0.1).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
        TestAudio.Run("sox", ["-R", "-n", "-r", rate, "-b", "16", "-c", "1", "-e", "signed-integer", "-t", "raw", raw, "synth", seconds, kind]);
        try
        {
            var noise = TestAudio.FromBytes(File.ReadAllBytes(raw)).AsSpan(0, samples);
            var gain = Math.Pow(10, dbfs / 20) / Audio.Pcm.Rms(noise);
            var scaled = new short[samples];
            for (var i = 0; i < samples; i++)
                scaled[i] = (short)Math.Clamp(Math.Round(noise[i] * gain), short.MinValue, short.MaxValue);
            return scaled;
        }
        finally
        {
            File.Delete(raw);
        }
    }

    /// <summary>Adds signals sample by sample, clipping at full scale.</summary>
    public static short[] Mix(short[] a, short[] b)
        => a.Zip(b, (x, y) => (short)Math.Clamp(x + y, short.MinValue, short.MaxValue)).ToArray();

    /// <summary>Scales a signal by <paramref name="db"/> decibels.</summary>
    public static short[] Gain(short[] signal, double db)
    {
        var factor = Math.Pow(10, db / 20);
        return signal.Select(s => (short)Math.Clamp(Math.Round(s * factor), short.MinValue, short.MaxValue)).ToArray();
    }

    /// <summary>Runs a VAD over audio sent as 20 ms frames and returns the segments it reported.</summary>
    public static async Task<Segment[]> RunAsync(VadProcessor vad, short[] interleaved, int sampleRate, int channels = 1, IEnumerable<(int FrameIndex, Frame Frame)>? inserts = null)
        => ToSegments(await RunFramesAsync(vad, interleaved, sampleRate, channels, inserts));

    /// <summary>Runs a VAD over audio sent as 20 ms frames and returns every frame that came out downstream.</summary>
    public static async Task<IReadOnlyList<Frame>> RunFramesAsync(VadProcessor vad, short[] interleaved, int sampleRate, int channels = 1,
        IEnumerable<(int FrameIndex, Frame Frame)>? inserts = null, HarnessOptions? options = null)
    {
        var perFrame = sampleRate / 50 * channels;
        var frames = new List<Frame>();
        var extra = (inserts ?? []).ToLookup(i => i.FrameIndex, i => i.Frame);
        for (int offset = 0, index = 0; offset + perFrame <= interleaved.Length; offset += perFrame, index++)
        {
            frames.AddRange(extra[index]);
            frames.Add(new InputAudioRawFrame(TestAudio.ToBytes(interleaved.AsSpan(offset, perFrame)), sampleRate, channels));
        }
        var result = await FrameProcessorHarness.RunAsync(vad, frames, options);
        return result.Downstream;
    }

    public static Segment[] ToSegments(IEnumerable<Frame> frames)
    {
        var segments = new List<Segment>();
        double? start = null;
        foreach (var frame in frames)
        {
            if (frame is UserStartedSpeakingFrame started)
                start = started.SpeechStart.TotalSeconds;
            else if (frame is UserStoppedSpeakingFrame stopped && start is { } s)
            {
                segments.Add(new Segment(s, stopped.SpeechEnd.TotalSeconds));
                start = null;
            }
        }
        return segments.ToArray();
    }

    /// <summary>Interleaves a mono signal into identical stereo channels.</summary>
    public static short[] Stereo(short[] mono) => mono.SelectMany(s => new[] { s, s }).ToArray();
}
