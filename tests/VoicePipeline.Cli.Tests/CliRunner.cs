using System.Diagnostics;

namespace VoicePipeline.Cli.Tests;

/// <summary>What a run of <c>vp</c> printed and returned.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public string[] StdoutLines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>Runs the built <c>vp</c> in a child process, stdin closed, without TOGETHER_API_KEY, with a timeout.</summary>
internal static class CliRunner
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static async Task<CliResult> RunAsync(params string[] arguments) => await RunAsync(TimeSpan.FromMinutes(3), arguments);

    public static async Task<CliResult> RunAsync(TimeSpan timeout, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryRoot,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "vp.dll"));
        foreach (var a in arguments)
            info.ArgumentList.Add(a);
        info.Environment.Remove("TOGETHER_API_KEY");
        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"vp {string.Join(' ', arguments)} did not finish within {timeout}. stderr: {await stderr}");
        }
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VoicePipeline.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("The repository root (VoicePipeline.sln) was not found.");
    }
}
