using VoicePipeline.Vad;

namespace VoicePipeline.Frames;

/// <summary>Base of the frames that change a running service's settings. Never dropped by an interruption.</summary>
public abstract class ServiceUpdateSettingsFrame : ControlFrame, IUninterruptibleFrame
{
    /// <summary>Gets service-specific settings beyond the typed ones, by their wire names.</summary>
    public IReadOnlyDictionary<string, object?> Extra { get; init; } = new Dictionary<string, object?>();
}

/// <summary>Changes a running speech-to-text service. Null properties keep their current values.</summary>
public sealed class SttUpdateSettingsFrame : ServiceUpdateSettingsFrame
{
    /// <summary>Gets the new model, or null to keep it.</summary>
    public string? Model { get; init; }

    /// <summary>Gets the new language (ISO-639-1), or null to keep it.</summary>
    public string? Language { get; init; }

    /// <summary>Gets the new prompt, or null to keep it.</summary>
    public string? Prompt { get; init; }
}

/// <summary>Changes a running text-to-speech service. Null properties keep their current values.</summary>
public sealed class TtsUpdateSettingsFrame : ServiceUpdateSettingsFrame
{
    /// <summary>Gets the new voice, or null to keep it.</summary>
    public string? Voice { get; init; }

    /// <summary>Gets the new model, or null to keep it.</summary>
    public string? Model { get; init; }

    /// <summary>Gets the new language, or null to keep it.</summary>
    public string? Language { get; init; }

    /// <summary>Gets the new speaking speed, or null to keep it.</summary>
    public double? Speed { get; init; }
}

/// <summary>Changes a running LLM service. Null properties keep their current values.</summary>
public sealed class LlmUpdateSettingsFrame : ServiceUpdateSettingsFrame
{
    /// <summary>Gets the new model, or null to keep it.</summary>
    public string? Model { get; init; }

    /// <summary>Gets the new temperature, or null to keep it.</summary>
    public double? Temperature { get; init; }

    /// <summary>Gets the new maximum number of output tokens, or null to keep it.</summary>
    public int? MaxTokens { get; init; }
}

/// <summary>Changes the parameters of a running voice activity detector.</summary>
public sealed class VadParamsUpdateFrame : ControlFrame, IUninterruptibleFrame
{
    /// <summary>Creates an update with the new parameters.</summary>
    public VadParamsUpdateFrame(VadParams parameters) => Params = parameters ?? throw new ArgumentNullException(nameof(parameters));

    /// <summary>Gets the new parameters.</summary>
    public VadParams Params { get; }
}
