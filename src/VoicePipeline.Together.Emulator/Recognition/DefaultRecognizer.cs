namespace VoicePipeline.Together.Emulator.Recognition;

/// <summary>The recognizer the emulator uses when none is configured: PocketSphinx, offline.</summary>
internal static class DefaultRecognizer
{
    private static readonly Lazy<IStreamingRecognizerFactory> s_factory = new(() => new PocketSphinxRecognizerFactory());

    public static IStreamingRecognizerFactory Factory => s_factory.Value;
}
