namespace VoicePipeline.Audio;

/// <summary>An audio file is missing, empty, corrupt, truncated beyond use, not audio, or in an unsupported format.</summary>
/// <remarks>The message names the file and says what is wrong, in one line.</remarks>
public sealed class AudioFormatException : Exception
{
    /// <summary>Creates the exception for <paramref name="path"/>.</summary>
    public AudioFormatException(string path, string problem, Exception? innerException = null)
        : base($"{path}: {problem}", innerException)
    {
        Path = path;
        Problem = problem;
    }

    /// <summary>Creates the exception with a message.</summary>
    public AudioFormatException(string message) : base(message)
    {
        Path = string.Empty;
        Problem = message;
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public AudioFormatException(string message, Exception innerException) : base(message, innerException)
    {
        Path = string.Empty;
        Problem = message;
    }

    /// <summary>Gets the file concerned.</summary>
    public string Path { get; }

    /// <summary>Gets what is wrong with it.</summary>
    public string Problem { get; }
}
