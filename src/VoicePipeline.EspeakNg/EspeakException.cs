namespace VoicePipeline.EspeakNg;

/// <summary>espeak-ng is missing, a voice is unknown, or the synthesis failed.</summary>
public sealed class EspeakException : Exception
{
    /// <summary>The Debian packages that provide the library and its voice data.</summary>
    public const string Packages = "libespeak-ng1 espeak-ng-data";

    /// <summary>Creates the exception.</summary>
    public EspeakException(string message) : base(message) { }

    /// <summary>Creates the exception with an inner exception.</summary>
    public EspeakException(string message, Exception innerException) : base(message, innerException) { }
}
