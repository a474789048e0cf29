using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using VoicePipeline.Cli.Commands;

namespace VoicePipeline.Benchmarks.Load;

/// <summary>
/// A helper process of the load benchmarks, from the server's side: this benchmark's own executable started with a
/// hidden verb (<see cref="LoadClient.Verb"/>: the clients; <see cref="LoadEmulator.Verb"/>: the Together emulator),
/// driven by one command line at a time. It is killed (with anything it started) when disposed, when this process exits
/// or on Ctrl+C, and it exits by itself when its stdin closes.
/// </summary>
internal sealed class HelperProcess : IDisposable
{
    private readonly Process _process;
    private readonly string? _directory;

    private HelperProcess(Process process, string? directory)
    {
        _process = process;
        _directory = directory;
        AppDomain.CurrentDomain.ProcessExit += OnExit;
        Console.CancelKeyPress += OnCancel;
    }

    /// <summary>Starts the load clients, streaming <paramref name="audio"/>.</summary>
    public static HelperProcess StartClients(LoadAudio audio)
    {
        var directory = Directory.CreateTempSubdirectory("vp-load-").FullName;
        var (audioPath, stopsPath) = audio.WriteFiles(directory);
        return Start([LoadClient.Verb, "--audio", audioPath, "--stops", stopsPath], directory);
    }

    /// <summary>Starts the emulator (keeping <paramref name="keepLogs"/> request logs) and returns it with its address.</summary>
    public static async Task<(HelperProcess Process, Uri Url)> StartEmulatorAsync(int keepLogs)
    {
        var emulator = Start([LoadEmulator.Verb, "--keep-logs", keepLogs.ToString(System.Globalization.CultureInfo.InvariantCulture)], directory: null);
        try
        {
            var ready = await emulator.ReadReplyAsync("its start", TimeSpan.FromMinutes(1)).ConfigureAwait(false);
            return (emulator, new Uri(ready.GetProperty("url").GetString()!));
        }
        catch
        {
            emulator.Dispose();
            throw;
        }
    }

    private static HelperProcess Start(string[] args, string? directory)
    {
        var start = StartSelf(args);
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        // A helper's own GC needs no server heaps.
        start.Environment["DOTNET_gcServer"] = "0";
        start.Environment.Remove(GcChoice.ChildMarker);
        start.Environment.Remove(ServeAgent.InlineSocketCompletionsVariable); // the server's setting, not the clients' or the emulator's
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start the {args[0]} process");
        return new HelperProcess(process, directory);
    }

    /// <summary>
    /// The helper's side: reads commands from stdin, one per line, and writes each one's answer (a JSON line from
    /// <paramref name="answer"/>) to stdout, until <c>exit</c> or the end of input.
    /// </summary>
    public static async Task ServeCommandsAsync(Func<string[], ValueTask<string>> answer)
    {
        string? line;
        while ((line = await Console.In.ReadLineAsync().ConfigureAwait(false)) is not null)
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0)
                continue;
            if (parts[0] == "exit")
                break;
            Reply(await answer(parts).ConfigureAwait(false));
        }
    }

    /// <summary>The helper's side: writes one answer line to stdout.</summary>
    public static void Reply(string json)
    {
        Console.Out.WriteLine(json);
        Console.Out.Flush();
    }

    /// <summary>The helper's answer to a command it does not know.</summary>
    public static string UnknownCommand(string command) => JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = "unknown command " + command });

    /// <summary>How to start this benchmark's executable again with <paramref name="args"/>.</summary>
    public static ProcessStartInfo StartSelf(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo { UseShellExecute = false, FileName = Environment.ProcessPath! };
        if (Path.GetFileNameWithoutExtension(start.FileName) == "dotnet")
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location); // run as `dotnet VoicePipeline.Benchmarks.dll`
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        return start;
    }

    /// <summary>Sends one command and returns its answer (one JSON line).</summary>
    public async Task<JsonElement> SendAsync(string command, TimeSpan timeout)
    {
        await _process.StandardInput.WriteLineAsync(command).ConfigureAwait(false);
        await _process.StandardInput.FlushAsync().ConfigureAwait(false);
        return await ReadReplyAsync($"'{command}'", timeout).ConfigureAwait(false);
    }

    /// <summary>Reads the helper's next answer line; an <c>error</c> answer throws.</summary>
    private async Task<JsonElement> ReadReplyAsync(string during, TimeSpan timeout)
    {
        var line = await _process.StandardOutput.ReadLineAsync().WaitAsync(timeout).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"the load helper process exited (code {(_process.HasExited ? _process.ExitCode : -1)}) during {during}");
        var reply = JsonDocument.Parse(line).RootElement;
        if (reply.TryGetProperty("error", out var error))
            throw new InvalidOperationException("load helper: " + error.GetString());
        return reply;
    }

    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnExit;
        Console.CancelKeyPress -= OnCancel;
        Kill();
        _process.Dispose();
        if (_directory is null)
            return;
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A temporary directory; the system cleans it eventually.
        }
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.Close();
                if (!_process.WaitForExit(2000))
                    _process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception exception) when (exception is InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
        {
            // Already gone.
        }
    }

    private void OnExit(object? sender, EventArgs e) => Kill();

    private void OnCancel(object? sender, ConsoleCancelEventArgs e) => Kill();
}
