using VoicePipeline.Processors;
using VoicePipeline.Services;
using VoicePipeline.Vad;

namespace VoicePipeline.Frames;

/// <summary>
/// Base of the frames that change a running service's settings. Never dropped by an interruption. With no target,
/// every service of the frame's kind applies it; with a target, only the service of that name or that instance.
/// Services pass the frame on either way, so later services of the same kind see it.
/// </summary>
public abstract class ServiceUpdateSettingsFrame : ControlFrame, IUninterruptibleFrame
{
    private protected ServiceUpdateSettingsFrame()
    {
    }

    /// <summary>Gets the name of the one service that applies this update (its <see cref="FrameProcessor.Name"/>), or null.</summary>
    public string? TargetName { get; init; }

    /// <summary>Gets the one service instance that applies this update, or null.</summary>
    public FrameProcessor? TargetService { get; init; }

    /// <summary>Gets whether the update has no target, so every service of its kind applies it.</summary>
    public bool IsBroadcast => TargetName is null && TargetService is null;

    /// <summary>Gets whether <paramref name="service"/> applies this update: no target, or the target is that service or its name.</summary>
    public bool Targets(FrameProcessor service)
    {
        ArgumentNullException.ThrowIfNull(service);
        return IsBroadcast || ReferenceEquals(TargetService, service) || string.Equals(TargetName, service.Name, StringComparison.Ordinal);
    }
}

/// <summary>A settings update carrying a typed delta: only the properties set in <see cref="Settings"/> change.</summary>
/// <typeparam name="TSettings">The kind of settings.</typeparam>
public abstract class ServiceUpdateSettingsFrame<TSettings> : ServiceUpdateSettingsFrame
    where TSettings : class, IServiceSettings<TSettings>
{
    private protected ServiceUpdateSettingsFrame(TSettings settings) => Settings = settings ?? throw new ArgumentNullException(nameof(settings));

    /// <summary>Gets the delta: the properties set change, null ones keep their values.</summary>
    public TSettings Settings { get; private protected init; }

    /// <inheritdoc />
    public override string ToString() => $"{Name}({Settings}{(IsBroadcast ? "" : $" for {TargetName ?? TargetService?.Name}")})";
}

/// <summary>Changes a running speech-to-text service. Null properties keep their current values.</summary>
public sealed class SttUpdateSettingsFrame : ServiceUpdateSettingsFrame<SttSettings>
{
    /// <summary>Creates an update that changes nothing until properties are set.</summary>
    public SttUpdateSettingsFrame()
        : base(new SttSettings())
    {
    }

    /// <summary>Creates an update with <paramref name="settings"/> as its delta.</summary>
    public SttUpdateSettingsFrame(SttSettings settings)
        : base(settings)
    {
    }

    /// <summary>Gets the new model, or null to keep it.</summary>
    public string? Model { get => Settings.Model; init => Settings = Settings with { Model = value }; }

    /// <summary>Gets the new language (ISO-639-1), or null to keep it.</summary>
    public string? Language { get => Settings.Language; init => Settings = Settings with { Language = value }; }

    /// <summary>Gets the new prompt, or null to keep it.</summary>
    public string? Prompt { get => Settings.Prompt; init => Settings = Settings with { Prompt = value }; }
}

/// <summary>Changes a running text-to-speech service. Null properties keep their current values.</summary>
public sealed class TtsUpdateSettingsFrame : ServiceUpdateSettingsFrame<TtsSettings>
{
    /// <summary>Creates an update that changes nothing until properties are set.</summary>
    public TtsUpdateSettingsFrame()
        : base(new TtsSettings())
    {
    }

    /// <summary>Creates an update with <paramref name="settings"/> as its delta.</summary>
    public TtsUpdateSettingsFrame(TtsSettings settings)
        : base(settings)
    {
    }

    /// <summary>Gets the new voice, or null to keep it.</summary>
    public string? Voice { get => Settings.Voice; init => Settings = Settings with { Voice = value }; }

    /// <summary>Gets the new model, or null to keep it.</summary>
    public string? Model { get => Settings.Model; init => Settings = Settings with { Model = value }; }

    /// <summary>Gets the new language, or null to keep it.</summary>
    public string? Language { get => Settings.Language; init => Settings = Settings with { Language = value }; }

    /// <summary>Gets the new speaking speed, or null to keep it.</summary>
    public double? Speed { get => Settings.Speed; init => Settings = Settings with { Speed = value }; }
}

/// <summary>Changes a running LLM service. Null properties keep their current values.</summary>
public sealed class LlmUpdateSettingsFrame : ServiceUpdateSettingsFrame<LlmSettings>
{
    /// <summary>Creates an update that changes nothing until properties are set.</summary>
    public LlmUpdateSettingsFrame()
        : base(new LlmSettings())
    {
    }

    /// <summary>Creates an update with <paramref name="settings"/> as its delta.</summary>
    public LlmUpdateSettingsFrame(LlmSettings settings)
        : base(settings)
    {
    }

    /// <summary>Gets the new model, or null to keep it.</summary>
    public string? Model { get => Settings.Model; init => Settings = Settings with { Model = value }; }

    /// <summary>Gets the new temperature, or null to keep it.</summary>
    public double? Temperature { get => Settings.Temperature; init => Settings = Settings with { Temperature = value }; }

    /// <summary>Gets the new maximum number of output tokens, or null to keep it.</summary>
    public int? MaxTokens { get => Settings.MaxTokens; init => Settings = Settings with { MaxTokens = value }; }

    /// <summary>Gets the new nucleus sampling probability, or null to keep it.</summary>
    public double? TopP { get => Settings.TopP; init => Settings = Settings with { TopP = value }; }
}

/// <summary>Changes the parameters of a running voice activity detector.</summary>
public sealed class VadParamsUpdateFrame : ControlFrame, IUninterruptibleFrame
{
    /// <summary>Creates an update with the new parameters.</summary>
    public VadParamsUpdateFrame(VadParams parameters) => Params = parameters ?? throw new ArgumentNullException(nameof(parameters));

    /// <summary>Gets the new parameters.</summary>
    public VadParams Params { get; }
}
