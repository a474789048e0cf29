using System.Net.WebSockets;
using VoicePipeline.Frames;

namespace VoicePipeline.Services;

/// <summary>How a service reports a provider's failure: the error frame's message and category, and whether retrying can help.</summary>
/// <param name="Message">The error message (never containing secrets).</param>
/// <param name="Category">The error category.</param>
/// <param name="IsPermanent">True when retrying cannot help (a wrong key, a forbidden model): the service stops using the provider.</param>
public sealed record ServiceFailure(string Message, ErrorCategory Category, bool IsPermanent)
{
    /// <summary>The default description of an exception: network failures are transient connectivity errors, anything else a transient server error.</summary>
    public static ServiceFailure Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception switch
        {
            HttpRequestException or WebSocketException or IOException or TimeoutException => new(exception.Message, ErrorCategory.Connectivity, false),
            UnauthorizedAccessException => new(exception.Message, ErrorCategory.Authentication, true),
            _ => new(exception.Message, ErrorCategory.Server, false),
        };
    }
}

/// <summary>Mutes or unmutes the speech-to-text services downstream: while muted, user audio is passed on but not transcribed.</summary>
public sealed class SttMuteFrame : SystemFrame
{
    /// <summary>Creates a mute (true) or unmute (false) frame.</summary>
    public SttMuteFrame(bool muted) => Muted = muted;

    /// <summary>Gets whether speech-to-text is muted from now on.</summary>
    public bool Muted { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Name}({(Muted ? "muted" : "unmuted")})";
}
