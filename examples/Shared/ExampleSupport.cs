using VoicePipeline.Frames;
using VoicePipeline.Processors;
using VoicePipeline.Together.Emulator;

namespace VoicePipeline.Examples;

/// <summary>What the examples share: where to find Together (or the offline emulator) and a console sink.</summary>
internal static class ExampleSupport
{
    /// <summary>Together with TOGETHER_API_KEY, otherwise the embedded emulator (offline, PocketSphinx).</summary>
    public static async Task<(Uri BaseUrl, string ApiKey, IAsyncDisposable? Emulator)> ConnectAsync()
    {
        var key = Environment.GetEnvironmentVariable("TOGETHER_API_KEY");
        if (!string.IsNullOrEmpty(key))
            return (new Uri("https://api.together.ai/v1"), key, null);
        Console.Error.WriteLine("No TOGETHER_API_KEY: running offline against the embedded emulator. Set TOGETHER_API_KEY to use Together AI.");
        var emulator = await TogetherEmulator.StartAsync();
        return (emulator.BaseUrl, "offline", emulator);
    }

    /// <summary>The sample shipped in the repository, unless a file is given.</summary>
    public static string SampleOr(string[] args)
    {
        if (args.Length > 0)
            return args[0];
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            var sample = Path.Combine(dir.FullName, "samples", "sense-and-sensibility.wav");
            if (File.Exists(sample))
                return sample;
        }
        throw new FileNotFoundException("Pass an audio file.");
    }
}

/// <summary>Prints final transcripts and text as they reach the end of the pipeline.</summary>
internal sealed class ConsoleSink : FrameProcessor
{
    protected override ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        switch (frame)
        {
            case TranscriptionFrame t:
                Console.WriteLine($"[{t.AudioStart?.TotalSeconds:0.0}s {t.Language ?? "?"}] {t.Text}");
                break;
            case TtsTextFrame spoken:
                Console.Write(spoken.Text + " "); // a word (or a sentence) once the TTS spoke it
                break;
            case LlmFullResponseEndFrame:
                Console.WriteLine();
                break;
            case TextFrame text when text is not InterimTranscriptionFrame:
                Console.Write(text.Text);
                break;
        }
        return PushFrameAsync(frame, direction, cancellationToken);
    }
}
