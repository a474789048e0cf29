namespace VoicePipeline.Frames;

/// <summary>What kind of failure an <see cref="ErrorFrame"/> reports.</summary>
public enum ErrorCategory
{
    /// <summary>Not classified.</summary>
    Unknown,

    /// <summary>The credentials are missing or wrong. Permanent.</summary>
    Authentication,

    /// <summary>The credentials do not allow the operation. Permanent.</summary>
    Authorization,

    /// <summary>The request itself is wrong (bad model, bad format, too large). Permanent.</summary>
    InvalidRequest,

    /// <summary>The network failed or the connection dropped. Transient.</summary>
    Connectivity,

    /// <summary>The server asked the client to slow down. Transient.</summary>
    RateLimit,

    /// <summary>The server failed or is overloaded. Transient.</summary>
    Server,

    /// <summary>The input data could not be processed (a failed turn, corrupt audio).</summary>
    Processing,
}

/// <summary>
/// Reports an error. Travels upstream towards the pipeline task, whose policy decides what a fatal error does.
/// </summary>
public sealed class ErrorFrame : SystemFrame
{
    /// <summary>Creates an error frame.</summary>
    /// <param name="message">A human-readable message; never contains secrets.</param>
    /// <param name="exception">The exception behind the error, if any.</param>
    /// <param name="category">What kind of failure this is.</param>
    /// <param name="fatal">Whether the processor that reported it can no longer work.</param>
    public ErrorFrame(string message, Exception? exception = null, ErrorCategory category = ErrorCategory.Unknown, bool fatal = false)
    {
        Message = message;
        Exception = exception;
        Category = category;
        Fatal = fatal;
    }

    /// <summary>Gets the human-readable message.</summary>
    public string Message { get; }

    /// <summary>Gets the exception behind the error, if any.</summary>
    public Exception? Exception { get; }

    /// <summary>Gets what kind of failure this is.</summary>
    public ErrorCategory Category { get; }

    /// <summary>Gets whether the reporting processor can no longer work.</summary>
    public bool Fatal { get; }

    /// <summary>Gets whether retrying can never succeed (authentication, authorization, invalid request).</summary>
    public bool IsPermanent => Category is ErrorCategory.Authentication or ErrorCategory.Authorization or ErrorCategory.InvalidRequest;

    /// <summary>Gets or sets the name of the processor that reported the error.</summary>
    public string? Processor { get; set; }

    /// <inheritdoc />
    public override string ToString() => $"{Name}({Category}{(Fatal ? ", fatal" : "")}: {Message})";
}
