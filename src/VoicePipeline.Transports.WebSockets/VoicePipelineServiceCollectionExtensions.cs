using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using VoicePipeline.Transports.WebSockets;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers what <c>MapVoicePipeline</c> needs: options, the session state and the drain on shutdown.</summary>
public static class VoicePipelineServerServiceCollectionExtensions
{
    /// <summary>The time the host gets beyond the drain's grace period and end timeout before it gives up.</summary>
    private static readonly TimeSpan s_shutdownMargin = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Adds the voice endpoints' services: <see cref="VoicePipelineServerOptions"/> (configured by
    /// <paramref name="configure"/>, or bind them yourself with <c>services.Configure&lt;VoicePipelineServerOptions&gt;(section)</c>),
    /// the <see cref="VoicePipelineServerState"/> singleton, and the drain on shutdown; the host's shutdown timeout is
    /// raised to cover the drain's grace period.
    /// </summary>
    /// <param name="services">The app's services.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddVoicePipelineServer(this IServiceCollection services, Action<VoicePipelineServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<VoicePipelineServerOptions>();
        if (configure is not null)
            options.Configure(configure);
        options.Validate(o => o.Validate() is not null);
        services.TryAddSingleton<VoicePipelineServerState>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, VoicePipelineDrainService>());
        services.AddOptions<HostOptions>().Configure<IOptions<VoicePipelineServerOptions>>((host, server) =>
        {
            var needed = server.Value.DrainGracePeriod + server.Value.DrainEndTimeout + s_shutdownMargin;
            if (host.ShutdownTimeout < needed)
                host.ShutdownTimeout = needed;
        });
        return services;
    }
}
