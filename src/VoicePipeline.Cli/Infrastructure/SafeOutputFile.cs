namespace VoicePipeline.Cli.Infrastructure;

/// <summary>Writes an output file through a temporary file that replaces the target only on success: no partial files.</summary>
internal sealed class SafeOutputFile : IDisposable
{
    private readonly string _target;
    private bool _committed;

    public SafeOutputFile(string target)
    {
        _target = Path.GetFullPath(target);
        var directory = Path.GetDirectoryName(_target)!;
        if (!Directory.Exists(directory))
            throw new IOException($"{target}: the folder {directory} does not exist");
        TempPath = Path.Combine(directory, $".{Path.GetFileName(_target)}.{Environment.ProcessId}.tmp");
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
