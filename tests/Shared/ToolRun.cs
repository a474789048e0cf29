using System.Diagnostics;

namespace VoicePipeline.Tests.Shared;

/// <summary>What a command-line tool printed and how it exited.</summary>
internal sealed record ToolResult(int ExitCode, string Stdout, string Stderr);

/// <summary>Runs command-line tools (ffmpeg, espeak-ng, npm, node...) for tests, to their end within a time limit.</summary>
internal static class ToolRun
{
    /// <summary>Runs <paramref name="fileName"/> and returns its exit code and output; kills it and throws past <paramref name="timeout"/>.</summary>
    public static ToolResult Run(string fileName, IEnumerable<string> arguments, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromMinutes(2);
        var psi = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null)
            psi.WorkingDirectory = workingDirectory;
        foreach (var argument in arguments)
            psi.ArgumentList.Add(argument);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish within {limit.TotalMinutes:0.#} minutes.");
        }
        return new ToolResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs <paramref name="fileName"/> and returns its standard output; throws with its stderr when it fails.</summary>
    public static string RunChecked(string fileName, IEnumerable<string> arguments, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var result = Run(fileName, arguments, workingDirectory, timeout);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"{fileName} failed ({result.ExitCode}): {result.Stdout}\n{result.Stderr}");
        return result.Stdout;
    }
}
