using VoicePipeline.Tests.Shared;

namespace VoicePipeline.Audio.Tests;

/// <summary>
/// ffmpeg and ffprobe get <c>file:</c> and an absolute path: a file whose relative name looks like an option, a
/// protocol or a URL is still just a file.
/// </summary>
public class AudioFileNameTests
{
    [Theory]
    [InlineData("-i")]
    [InlineData("-version")]
    [InlineData("concat:")]
    [InlineData("subfile,,start,0,end,0,,:")]
    [InlineData("pipe:")]
    public async Task A_relative_file_name_that_looks_like_an_option_or_a_protocol_is_read_as_a_file(string prefix)
    {
        var name = $"{prefix}{Guid.NewGuid():N}.wav"; // relative: in the working directory, where ffmpeg would parse it
        var speech = TestAudio.Speak("one two three", 16_000);
        TestAudio.WriteWav(Path.Combine(Environment.CurrentDirectory, name), speech, 16_000);
        try
        {
            var info = await AudioFile.ProbeAsync(name);
            var decoded = await AudioFile.ReadMonoAsync(name, 16_000);

            info.Format.Should().Be("wav");
            info.SampleRate.Should().Be(16_000);
            decoded.Should().Equal(speech, "the file itself was decoded");
        }
        finally
        {
            File.Delete(Path.Combine(Environment.CurrentDirectory, name));
        }
    }

    [Fact]
    public async Task A_url_shaped_relative_path_is_a_file_and_never_fetched()
    {
        // "http://127.0.0.1:9/x.wav" relative to a folder named "http:": ffmpeg would otherwise open an HTTP connection.
        var root = Path.Combine(Environment.CurrentDirectory, "http:");
        var folder = Directory.CreateDirectory(Path.Combine(root, "127.0.0.1:9")).FullName;
        var speech = TestAudio.Speak("four five", 16_000);
        TestAudio.WriteWav(Path.Combine(folder, "x.wav"), speech, 16_000);
        try
        {
            var info = await AudioFile.ProbeAsync("http://127.0.0.1:9/x.wav");

            info.Format.Should().Be("wav");
            info.Duration.Should().BeApproximately(speech.Length / 16_000.0, 0.01);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task A_file_name_with_a_line_break_or_an_empty_name_is_refused_with_a_clear_message()
    {
        var empty = await FluentActions.Awaiting(() => AudioFile.ProbeAsync("")).Should().ThrowAsync<AudioFormatException>();
        var lineBreak = await FluentActions.Awaiting(() => AudioFile.ProbeAsync("a\nb.wav")).Should().ThrowAsync<AudioFormatException>();

        empty.Which.Message.Should().Be("no audio file given (the file name is empty)");
        lineBreak.Which.Message.Should().Contain("is not a valid file name");
    }
}
