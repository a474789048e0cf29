namespace VoicePipeline.PocketSphinx;

/// <summary>Where the PocketSphinx models are and how the decoder is configured.</summary>
public sealed class PocketSphinxOptions
{
    /// <summary>Where Debian's <c>pocketsphinx-en-us</c> package installs the US English models.</summary>
    public const string DebianModelDirectory = "/usr/share/pocketsphinx/model/en-us";

    /// <summary>The environment variable that overrides <see cref="ModelDirectory"/>.</summary>
    public const string ModelDirectoryVariable = "POCKETSPHINX_MODEL_DIR";

    /// <summary>Gets or sets the folder holding <c>en-us/</c>, <c>en-us.lm.bin</c> and <c>cmudict-en-us.dict</c>.</summary>
    public string ModelDirectory { get; set; } = Environment.GetEnvironmentVariable(ModelDirectoryVariable) is { Length: > 0 } dir ? dir : DebianModelDirectory;

    /// <summary>Gets or sets the acoustic model folder (default: <c>{ModelDirectory}/en-us</c>).</summary>
    public string? AcousticModel { get; set; }

    /// <summary>Gets or sets the language model (default: <c>{ModelDirectory}/en-us.lm.bin</c>).</summary>
    public string? LanguageModel { get; set; }

    /// <summary>Gets or sets the pronunciation dictionary (default: <c>{ModelDirectory}/cmudict-en-us.dict</c>).</summary>
    public string? Dictionary { get; set; }

    /// <summary>Gets extra decoder arguments by name, for example <c>["-beam"] = "1e-60"</c>.</summary>
    public IDictionary<string, string> ExtraArguments { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    internal string ResolvedAcousticModel => AcousticModel ?? Path.Combine(ModelDirectory, "en-us");

    internal string ResolvedLanguageModel => LanguageModel ?? Path.Combine(ModelDirectory, "en-us.lm.bin");

    internal string ResolvedDictionary => Dictionary ?? Path.Combine(ModelDirectory, "cmudict-en-us.dict");
}
