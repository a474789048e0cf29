namespace VoicePipeline.Services;

/// <summary>
/// The settings of one kind of service, used both as the service's current settings and as a delta in an update
/// frame: in a delta, a null property means "keep the current value".
/// </summary>
/// <typeparam name="TSelf">The settings type itself.</typeparam>
public interface IServiceSettings<TSelf>
    where TSelf : class, IServiceSettings<TSelf>
{
    /// <summary>Returns these settings with every property <paramref name="delta"/> sets applied, and records what changed.</summary>
    /// <param name="delta">The properties to change; null properties keep their values.</param>
    /// <param name="changes">Receives one entry per property whose value changed.</param>
    TSelf Apply(TSelf delta, ICollection<SettingChange> changes);
}

/// <summary>One setting a settings update changed.</summary>
/// <param name="Name">The property's name, for example <c>Language</c>.</param>
/// <param name="OldValue">The value before the update.</param>
/// <param name="NewValue">The value after it.</param>
public readonly record struct SettingChange(string Name, object? OldValue, object? NewValue)
{
    /// <summary>Returns <paramref name="update"/> when set (recording a change when it differs), otherwise <paramref name="current"/>.</summary>
    public static T? Track<T>(T? current, T? update, string name, ICollection<SettingChange> changes)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(changes);
        if (update is null || EqualityComparer<T>.Default.Equals(current, update))
            return current;
        changes.Add(new SettingChange(name, current, update));
        return update;
    }

    /// <summary>Returns <paramref name="update"/> when set (recording a change when it differs), otherwise <paramref name="current"/>.</summary>
    public static T? TrackValue<T>(T? current, T? update, string name, ICollection<SettingChange> changes)
        where T : struct
    {
        ArgumentNullException.ThrowIfNull(changes);
        if (update is null || Nullable.Equals(current, update))
            return current;
        changes.Add(new SettingChange(name, current, update));
        return update;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {OldValue ?? "(none)"} -> {NewValue ?? "(none)"}";
}

/// <summary>Settings of a speech-to-text service. In an update, null properties keep their current values.</summary>
public sealed record SttSettings : IServiceSettings<SttSettings>
{
    /// <summary>Gets the model.</summary>
    public string? Model { get; init; }

    /// <summary>Gets the language (ISO-639-1).</summary>
    public string? Language { get; init; }

    /// <summary>Gets a prompt that guides the model.</summary>
    public string? Prompt { get; init; }

    /// <inheritdoc />
    public SttSettings Apply(SttSettings delta, ICollection<SettingChange> changes)
    {
        ArgumentNullException.ThrowIfNull(delta);
        return new()
        {
            Model = SettingChange.Track(Model, delta.Model, nameof(Model), changes),
            Language = SettingChange.Track(Language, delta.Language, nameof(Language), changes),
            Prompt = SettingChange.Track(Prompt, delta.Prompt, nameof(Prompt), changes),
        };
    }
}

/// <summary>Settings of a text-to-speech service. In an update, null properties keep their current values.</summary>
public sealed record TtsSettings : IServiceSettings<TtsSettings>
{
    /// <summary>Gets the voice.</summary>
    public string? Voice { get; init; }

    /// <summary>Gets the model.</summary>
    public string? Model { get; init; }

    /// <summary>Gets the language.</summary>
    public string? Language { get; init; }

    /// <summary>Gets the speaking speed (1 is normal).</summary>
    public double? Speed { get; init; }

    /// <inheritdoc />
    public TtsSettings Apply(TtsSettings delta, ICollection<SettingChange> changes)
    {
        ArgumentNullException.ThrowIfNull(delta);
        return new()
        {
            Voice = SettingChange.Track(Voice, delta.Voice, nameof(Voice), changes),
            Model = SettingChange.Track(Model, delta.Model, nameof(Model), changes),
            Language = SettingChange.Track(Language, delta.Language, nameof(Language), changes),
            Speed = SettingChange.TrackValue(Speed, delta.Speed, nameof(Speed), changes),
        };
    }
}

/// <summary>Settings of an LLM service. In an update, null properties keep their current values.</summary>
public sealed record LlmSettings : IServiceSettings<LlmSettings>
{
    /// <summary>Gets the model.</summary>
    public string? Model { get; init; }

    /// <summary>Gets the sampling temperature.</summary>
    public double? Temperature { get; init; }

    /// <summary>Gets the maximum number of output tokens.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>Gets the nucleus sampling probability.</summary>
    public double? TopP { get; init; }

    /// <inheritdoc />
    public LlmSettings Apply(LlmSettings delta, ICollection<SettingChange> changes)
    {
        ArgumentNullException.ThrowIfNull(delta);
        return new()
        {
            Model = SettingChange.Track(Model, delta.Model, nameof(Model), changes),
            Temperature = SettingChange.TrackValue(Temperature, delta.Temperature, nameof(Temperature), changes),
            MaxTokens = SettingChange.TrackValue(MaxTokens, delta.MaxTokens, nameof(MaxTokens), changes),
            TopP = SettingChange.TrackValue(TopP, delta.TopP, nameof(TopP), changes),
        };
    }
}
