namespace VoicePipeline.PocketSphinx;

/// <summary>PocketSphinx is missing, its models are missing, or the decoder failed.</summary>
public sealed class PocketSphinxException : Exception
{
    /// <summary>The Debian packages that provide the library and the models.</summary>
    public const string Packages = "libpocketsphinx3 pocketsphinx-en-us";

    /// <summary>Creates the exception.</summary>
    public PocketSphinxException(string message) : base(message) { }

    /// <summary>Creates the exception with an inner exception.</summary>
    public PocketSphinxException(string message, Exception innerException) : base(message, innerException) { }
}
