using System.Diagnostics;
using System.Reflection;
using System.Text.Json;

namespace VoicePipeline.Benchmarks.Load;

/// <summary>
/// The load clients' process, from the server's side: this benchmark's own executable started with the hidden
/// <see cref="LoadClient.Verb"/> verb, driven by one command line at a time. It is killed (with anything it started)
/// when disposed, when this process exits or on Ctrl+C, and it exits by itself when its stdin closes.
/// </summary>
internal sealed class ClientProcess : IDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private ClientProcess(Process process, string directory)
    {
        _process = process;
        _directory = directory;
        AppDomain.CurrentDomain.ProcessExit += OnExit;
        Console.CancelKeyPress += OnCancel;
    }

    public static ClientProcess Start(LoadAudio audio)
    {
        var directory = Directory.CreateTempSubdirectory("vp-load-").FullName;
        var (audioPath, stopsPath) = audio.WriteFiles(directory);
        var start = StartSelf([LoadClient.Verb, "--audio", audioPath, "--stops", stopsPath]);
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        // The clients' own GC needs no server heaps.
        start.Environment["DOTNET_gcServer"] = "0";
        start.Environment.Remove(GcChoice.ChildMarker);
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the load client process");
        return new ClientProcess(process, directory);
    }

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
        var line = await _process.StandardOutput.ReadLineAsync().WaitAsync(timeout).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"the load client process exited (code {(_process.HasExited ? _process.ExitCode : -1)}) during '{command}'");
        var reply = JsonDocument.Parse(line).RootElement;
        if (reply.TryGetProperty("error", out var error))
            throw new InvalidOperationException("load client: " + error.GetString());
        return reply;
    }

    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnExit;
        Console.CancelKeyPress -= OnCancel;
        Kill();
        _process.Dispose();
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
