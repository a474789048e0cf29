using VoicePipeline.Tests.Shared;

namespace VoicePipeline.Cli.Tests;

/// <summary>File options are checked before anything runs, with a clear message: no value reaches a file path unchecked.</summary>
public class PathOptionTests
{
    [Fact]
    public async Task An_output_that_is_a_directory_is_refused_before_anything_runs()
    {
        var directory = Directory.CreateDirectory(Path.Combine(TestAudio.ScratchDirectory, Guid.NewGuid().ToString("N"))).FullName;
        var input = TestAudio.WriteWav(TestAudio.TempPath(".wav"), TestAudio.Silence(0.2), 16_000);

        var speak = await CliRunner.RunAsync("speak", "hello", "-o", directory);
        var convert = await CliRunner.RunAsync("convert", input, directory + "/");
        var wavNamedDirectory = Directory.CreateDirectory(Path.Combine(directory, "looks-like.wav")).FullName;
        var agent = await CliRunner.RunAsync("agent", input, "-o", wavNamedDirectory);

        speak.ExitCode.Should().Be(2);
        speak.Stderr.Should().Be($"vp: -o: {directory} is a directory, not a file\n", "refused before the emulator starts or anything is written");
        convert.ExitCode.Should().Be(2);
        convert.Stderr.Should().Contain("OUTPUT: ").And.Contain("is a directory, not a file");
        agent.ExitCode.Should().Be(2);
        agent.Stderr.Should().Contain("-o: ").And.Contain("is a directory, not a file");
        Directory.EnumerateFileSystemEntries(directory).Should().Equal([wavNamedDirectory], "nothing was written into the directories");
        Directory.EnumerateFileSystemEntries(wavNamedDirectory).Should().BeEmpty();
    }

    [Fact]
    public async Task Empty_and_unusable_file_names_are_refused_with_a_clear_message()
    {
        var empty = await CliRunner.RunAsync("info", "");
        var blankOutput = await CliRunner.RunAsync("speak", "hello", "-o", " ");
        var missingFolder = await CliRunner.RunAsync("speak", "hello", "-o", Path.Combine(TestAudio.ScratchDirectory, "no-such-folder", "x.wav"));
        var lineBreak = await CliRunner.RunAsync("info", "a\nb.wav");

        empty.ExitCode.Should().Be(2);
        empty.Stderr.Should().Be("vp: no audio file given (the file name is empty)\n");
        blankOutput.ExitCode.Should().Be(2);
        blankOutput.Stderr.Should().Be("vp: -o: no file name given\n");
        missingFolder.ExitCode.Should().Be(2);
        missingFolder.Stderr.Should().Contain("-o: the folder").And.Contain("no-such-folder does not exist");
        lineBreak.ExitCode.Should().Be(2);
        lineBreak.Stderr.Should().Contain("is not a valid file name");
    }
}
