using System.Collections.Concurrent;
using System.Globalization;
using VoicePipeline.Tests.Shared;
using VoicePipeline.Vad;
using Xunit.Abstractions;

namespace VoicePipeline.Vad.Silero.Tests;

/// <summary>
/// The VAD with its default parameters must find where real speech begins and ends, in digital silence and under
/// noise, within a quarter of a second of the speech's own envelope (computed from the clean clip): a turn's start
/// must not be lost. Each clip is surrounded by a second of silence, then noise from sox is added over the whole.
/// </summary>
public class SpeechEdgeTests(ITestOutputHelper output)
{
    private const double Tolerance = 0.25;

    private static readonly ConcurrentDictionary<(string Clip, int Rate), short[]> s_clips = new();

    /// <summary>The clips: the LibriVox recordings of pocketsphinx-testdata and espeak-ng questions and prompts in several voices.</summary>
    private static readonly string[] s_clipNames =
    [
        "librivox 0870", "librivox 0880", "librivox 0890", "librivox 0920", "librivox 0930",
        "espeak en-us: What is two plus three?", "espeak en-gb: What is two plus three?", "espeak en-us+f3: What is two plus three?",
        "espeak en-gb-x-rp: What is two plus three?", "espeak en-029: What is two plus three?", "espeak en-gb-scotland: What is two plus three?",
        "espeak en-us: Tell me a joke about cats.", "espeak en-us+f2: Can you hear me?",
    ];

    /// <summary>Every clip under every condition.</summary>
    public static TheoryData<string, string> ClipsAndConditions()
    {
        string[] conditions = ["silence", "pinknoise -60", "pinknoise -45", "pinknoise -35", "whitenoise -60", "whitenoise -45", "whitenoise -35", "quiet speaker (-15 dB) over pinknoise -60"];
        var data = new TheoryData<string, string>();
        foreach (var clip in s_clipNames)
        {
            foreach (var condition in conditions)
                data.Add(clip, condition);
        }
        return data;
    }

    /// <summary>Clips at the model's other rate.</summary>
    public static TheoryData<string, string> NarrowbandCases() => new()
    {
        { "librivox 0880", "silence" }, { "librivox 0880", "pinknoise -45" },
        { "espeak en-us: What is two plus three?", "silence" }, { "espeak en-us: What is two plus three?", "pinknoise -45" },
        { "espeak en-us: Tell me a joke about cats.", "whitenoise -45" },
    };

    [Theory]
    [MemberData(nameof(ClipsAndConditions))]
    public Task Segments_follow_the_speech_envelope(string clip, string condition) => CheckAsync(clip, condition, 16_000);

    [Theory]
    [MemberData(nameof(NarrowbandCases))]
    public Task Segments_follow_the_speech_envelope_at_8_khz(string clip, string condition) => CheckAsync(clip, condition, 8_000);

    private async Task CheckAsync(string clip, string condition, int rate)
    {
        var clean = Clip(clip, rate);
        // Where the speaker spoke, from the wideband clip: a telephone band cuts a final "s" short, not the speech.
        var truth = VadFixtures.SpeechEnvelope(Clip(clip, 16_000), 16_000);
        var audio = Apply(condition, clean, rate);

        var found = await VadFixtures.RunAsync(new VadProcessor(new SileroVadAnalyzer()), audio, rate);

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{clip}, {condition}, {rate} Hz: speech {truth.Start:0.00}-{truth.End:0.00}; found {string.Join(" ", found.Select(s => $"{s.Start:0.000}-{s.End:0.000}"))}"));
        found.Should().NotBeEmpty("the clip is speech");
        found[0].Start.Should().BeApproximately(truth.Start, Tolerance, "the speech begins there");
        found[^1].End.Should().BeApproximately(truth.End, Tolerance, "the speech ends there");
        found.Should().OnlyContain(s => s.Start >= truth.Start - Tolerance && s.End <= truth.End + Tolerance, "nothing outside the speech is speech");
        found.Sum(s => s.End - s.Start).Should().BeGreaterThan(0.8 * (truth.End - truth.Start), "pauses aside, the speech is found whole");
    }

    /// <summary>A clip at <paramref name="rate"/> between one second of digital silence before and after.</summary>
    private static short[] Clip(string name, int rate) => s_clips.GetOrAdd((name, rate), key =>
    {
        var (kind, what) = (key.Clip[..key.Clip.IndexOf(' ', StringComparison.Ordinal)], key.Clip[(key.Clip.IndexOf(' ', StringComparison.Ordinal) + 1)..]);
        var speech = kind == "librivox"
            ? TestAudio.Decode(Path.Combine(TestAudio.LibriVoxDirectory, $"sense_and_sensibility_01_austen_64kb-{what}.wav"), key.Rate)
            : TestAudio.Speak(what[(what.IndexOf(": ", StringComparison.Ordinal) + 2)..], key.Rate, voice: what[..what.IndexOf(':', StringComparison.Ordinal)]);
        return TestAudio.Concat(TestAudio.Silence(1, key.Rate), speech, TestAudio.Silence(1, key.Rate));
    });

    private static short[] Apply(string condition, short[] clean, int rate)
    {
        if (condition == "silence")
            return clean;
        if (condition.StartsWith("quiet speaker (-15 dB) over ", StringComparison.Ordinal))
            return Apply(condition["quiet speaker (-15 dB) over ".Length..], VadFixtures.Gain(clean, -15), rate);
        var parts = condition.Split(' ');
        return VadFixtures.Mix(clean, VadFixtures.Noise(parts[0], double.Parse(parts[1], CultureInfo.InvariantCulture), clean.Length, rate));
    }
}
