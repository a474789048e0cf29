namespace VoicePipeline.Cli.Infrastructure;

/// <summary>Writes an output file through a temporary file that replaces the target only on success: no partial files.</summary>
internal sealed class SafeOutputFile : IDisposable
{
    private readonly string _target;
    private bool _committed;

    public SafeOutputFile(string target, string option = "-o")
    {
        _target = Check(target, option);
        TempPath = Path.Combine(Path.GetDirectoryName(_target)!, $".{Path.GetFileName(_target)}.{Environment.ProcessId}.tmp");
    }

    /// <summary>
    /// Checks an output file option before anything runs: a name (not empty, no NUL or line break, not ending in a
    /// separator), not a directory, in a folder that exists. Returns the absolute path.
    /// </summary>
    /// <exception cref="ArgumentException">The value is not a file a command can write.</exception>
    public static string Check(string? target, string option)
    {
        if (string.IsNullOrWhiteSpace(target))
            throw new ArgumentException($"{option}: no file name given");
        if (target.AsSpan().IndexOfAny('\0', '\n', '\r') >= 0)
            throw new ArgumentException($"{option}: the file name holds a NUL or a line break");
        if (target.EndsWith(Path.DirectorySeparatorChar) || target.EndsWith(Path.AltDirectorySeparatorChar) || Directory.Exists(target))
            throw new ArgumentException($"{option}: {target} is a directory, not a file");
        var full = Path.GetFullPath(target);
        var directory = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(directory))
            throw new ArgumentException($"{option}: the folder {directory} does not exist");
        return full;
    }

    /// <summary>Gets the path to write to.</summary>
    public string TempPath { get; }

    /// <summary>Moves the finished file into place.</summary>
    public void Commit()
    {
        File.Move(TempPath, _target, overwrite: true);
        _committed = true;
    }

    public void Dispose()
    {
        if (!_committed && File.Exists(TempPath))
            File.Delete(TempPath);
    }
}
