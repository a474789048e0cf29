using Microsoft.Extensions.Logging;
using VoicePipeline.Frames;
using VoicePipeline.Processors;

namespace VoicePipeline.Services;

/// <summary>
/// A service's current settings and the one way every service applies a settings update frame: if the frame targets
/// the service, the properties it sets replace the current ones, each change is logged at debug level, and the changes
/// are returned so the service can act on them (reconnect, update a session). The frame itself is passed on by the
/// caller, so later services of the same kind see it too.
/// </summary>
/// <typeparam name="TSettings">The kind of settings.</typeparam>
public sealed partial class ServiceSettingsTracker<TSettings>
    where TSettings : class, IServiceSettings<TSettings>
{
    /// <summary>Creates a tracker that starts at <paramref name="initial"/>.</summary>
    public ServiceSettingsTracker(TSettings initial) => Current = initial ?? throw new ArgumentNullException(nameof(initial));

    /// <summary>Gets the settings in force.</summary>
    public TSettings Current { get; private set; }

    /// <summary>Applies <paramref name="update"/> when it targets <paramref name="service"/>.</summary>
    /// <param name="update">The update frame.</param>
    /// <param name="service">The service applying it (its name and identity are matched against the frame's target).</param>
    /// <param name="logger">Where the changes are logged (debug level).</param>
    /// <returns>What changed; empty when the frame targets another service or changes nothing.</returns>
    public IReadOnlyList<SettingChange> Apply(ServiceUpdateSettingsFrame<TSettings> update, FrameProcessor service, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(update);
        ArgumentNullException.ThrowIfNull(service);
        if (!update.Targets(service))
        {
            Log.NotTargeted(logger, service.Name, update.Name);
            return [];
        }
        return Apply(update.Settings, service.Name, logger);
    }

    /// <summary>Applies a delta directly (code that changes a service without a frame).</summary>
    /// <param name="delta">The properties to change.</param>
    /// <param name="serviceName">The service's name, for the log.</param>
    /// <param name="logger">Where the changes are logged (debug level).</param>
    /// <returns>What changed.</returns>
    public IReadOnlyList<SettingChange> Apply(TSettings delta, string serviceName, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(delta);
        ArgumentNullException.ThrowIfNull(logger);
        var changes = new List<SettingChange>(2);
        Current = Current.Apply(delta, changes);
        if (changes.Count == 0)
            Log.Unchanged(logger, serviceName);
        foreach (var change in changes)
            Log.Changed(logger, serviceName, change.Name, change.OldValue, change.NewValue);
        return changes;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 140, Level = LogLevel.Debug, Message = "{Service}: setting {Setting} changed from {OldValue} to {NewValue}")]
        public static partial void Changed(ILogger logger, string service, string setting, object? oldValue, object? newValue);

        [LoggerMessage(EventId = 141, Level = LogLevel.Debug, Message = "{Service}: a settings update changed nothing")]
        public static partial void Unchanged(ILogger logger, string service);

        [LoggerMessage(EventId = 142, Level = LogLevel.Debug, Message = "{Service}: {Frame} is for another service")]
        public static partial void NotTargeted(ILogger logger, string service, string frame);
    }
}

/// <summary>Helpers over the changes a settings update made.</summary>
public static class SettingChanges
{
    /// <summary>Gets whether <paramref name="changes"/> include the setting named <paramref name="name"/>.</summary>
    public static bool Has(this IReadOnlyList<SettingChange> changes, string name)
    {
        ArgumentNullException.ThrowIfNull(changes);
        foreach (var change in changes)
        {
            if (string.Equals(change.Name, name, StringComparison.Ordinal))
                return true;
        }
        return false;
    }
}
