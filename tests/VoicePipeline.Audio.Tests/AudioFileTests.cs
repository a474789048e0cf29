using VoicePipeline.Tests.Shared;

namespace VoicePipeline.Audio.Tests;

public class AudioFileTests
{
    private static readonly Lazy<short[]> s_speech = new(() => TestAudio.Speak("The quick brown fox jumps over the lazy dog.", 16000));

    public static TheoryData<string, string[]> Formats() => new()
    {
        { "wav", [] },
        { "mp3", ["-c:a", "libmp3lame", "-b:a", "64k"] },
        { "m4a", ["-c:a", "aac", "-b:a", "64k"] },
        { "webm", ["-c:a", "libopus"] },
        { "flac", [] },
        { "ogg", ["-c:a", "libvorbis"] },
        { "opus", ["-c:a", "libopus"] },
        { "aac", ["-c:a", "aac", "-b:a", "64k"] },
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task Every_format_Together_accepts_decodes_to_the_same_speech(string extension, string[] codec)
    {
        var source = s_speech.Value;
        var path = TestAudio.Encode(source, 16000, TestAudio.TempPath("." + extension), 1, ["-ar", "48000", "-ac", "2", .. codec]);

        var info = await AudioFile.ProbeAsync(path);
        var decoded = await AudioFile.ReadMonoAsync(path, 16000);

        info.Format.Should().Be(extension);
        info.Channels.Should().Be(2);
        info.Duration.Should().BeApproximately(source.Length / 16000.0, 0.1);
        decoded.Length.Should().BeCloseTo(source.Length, 16000 / 10);
        BestCorrelation(source, decoded, maxLag: 1600).Should().BeGreaterThan(0.9, "the decoded audio is the same speech");
    }

    [Fact]
    public async Task Missing_file_is_a_clear_error()
    {
        var act = () => AudioFile.ProbeAsync("/nonexistent/speech.wav");
        (await act.Should().ThrowAsync<AudioFormatException>()).Which.Message.Should().Be("/nonexistent/speech.wav: no such file");
    }

    [Fact]
    public async Task Empty_file_is_a_clear_error()
    {
        var path = TestAudio.TempPath(".wav");
        await File.WriteAllBytesAsync(path, []);
        var act = () => AudioFile.OpenAsync(path);
        (await act.Should().ThrowAsync<AudioFormatException>()).Which.Message.Should().Be($"{path}: the file is empty");
    }

    [Theory]
    [InlineData(".mp3")]
    [InlineData(".wav")]
    public async Task Random_bytes_are_not_audio(string extension)
    {
        var path = TestAudio.TempPath(extension);
        var bytes = new byte[20000];
        new Random(42).NextBytes(bytes);
        await File.WriteAllBytesAsync(path, bytes);

        var act = () => AudioFile.ReadMonoAsync(path, 16000);

        (await act.Should().ThrowAsync<AudioFormatException>()).Which.Message.Should().StartWith(path + ": ").And.NotContain("\n");
    }

    [Fact]
    public async Task A_text_file_is_not_audio()
    {
        var path = TestAudio.TempPath(".ogg");
        await File.WriteAllTextAsync(path, "this is not audio at all\n");
        var act = () => AudioFile.ProbeAsync(path);
        (await act.Should().ThrowAsync<AudioFormatException>()).Which.Message.Should().Contain("not a readable audio file");
    }

    [Fact]
    public async Task A_truncated_file_decodes_what_it_holds()
    {
        var path = TestAudio.WriteWav(TestAudio.TempPath(".wav"), s_speech.Value, 16000);
        var bytes = await File.ReadAllBytesAsync(path);
        await File.WriteAllBytesAsync(path, bytes[..(bytes.Length / 2 + 1)]);

        var decoded = await AudioFile.ReadMonoAsync(path, 16000);

        decoded.Length.Should().BeCloseTo(s_speech.Value.Length / 2, 400);
    }

    internal static double BestCorrelation(short[] a, short[] b, int maxLag)
    {
        var best = 0.0;
        var n = Math.Min(a.Length, b.Length) - maxLag;
        for (var lag = -maxLag; lag <= maxLag; lag += 1)
        {
            double ab = 0, aa = 0, bb = 0;
            for (var i = maxLag; i < n; i += 2)
            {
                var x = (double)a[i];
                var y = (double)b[i + lag];
                ab += x * y; aa += x * x; bb += y * y;
            }
            best = Math.Max(best, ab / Math.Sqrt(aa * bb + 1e-9));
        }
        return best;
    }
}
