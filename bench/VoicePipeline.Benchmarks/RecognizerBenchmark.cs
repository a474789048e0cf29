using System.Diagnostics;
using VoicePipeline.Audio;
using VoicePipeline.PocketSphinx;

namespace VoicePipeline.Benchmarks;

/// <summary>
/// The emulator's recognizer (PocketSphinx through P/Invoke, fed 20 ms frames) beside <c>pocketsphinx_continuous</c>
/// on the same file in the same run: real-time factors (processing time / audio time), model loading included in both.
/// </summary>
internal sealed class RecognizerBenchmark : IHotPathBenchmark
{
    public string Name => "recognize";

    public async Task<int> RunAsync(bool json, string[] args)
    {
        var file = args.FirstOrDefault() ?? FindSample();
        var audio = await AudioFile.ReadMonoAsync(file, 16_000);
        var seconds = audio.Length / 16_000.0;

        var start = Stopwatch.GetTimestamp();
        using (var decoder = new PocketSphinxDecoder())
        {
            for (var i = 0; i < audio.Length; i += 320)
                decoder.Process(audio.AsSpan(i, Math.Min(320, audio.Length - i)));
            decoder.EndUtterance();
        }
        var ours = Stopwatch.GetElapsedTime(start).TotalSeconds;

        var psi = new ProcessStartInfo("pocketsphinx_continuous") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-infile", file, "-logfn", "/dev/null" })
            psi.ArgumentList.Add(a);
        start = Stopwatch.GetTimestamp();
        using (var process = Process.Start(psi)!)
        {
            await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
        }
        var theirs = Stopwatch.GetElapsedTime(start).TotalSeconds;

        BenchmarkReport.Print(json, $"PocketSphinx on {Path.GetFileName(file)} ({seconds:F1} s of audio)", [
            ("audio_seconds", seconds),
            ("rtf", ours / seconds),
            ("pocketsphinx_continuous_rtf", theirs / seconds),
        ]);
        return 0;
    }

    private static string FindSample()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "samples", "sense-and-sensibility.wav");
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException("samples/sense-and-sensibility.wav was not found; pass a file.");
    }
}
