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
