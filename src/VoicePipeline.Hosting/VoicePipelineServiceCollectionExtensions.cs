using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VoicePipeline.Hosting;
using VoicePipeline.Pipelines;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers VoicePipeline in a service collection.</summary>
public static class VoicePipelineServiceCollectionExtensions
{
    /// <summary>
    /// Adds what every pipeline needs: a <see cref="TimeProvider"/> (the system clock unless one is registered),
    /// logging, options, and the <see cref="PipelineTaskFactory"/> whose tasks carry the container's clock and
    /// logger factory to every processor. Providers are added on the returned builder
    /// (<c>.AddTogether()</c>, <c>.AddSileroVad()</c>).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Settings of every task the factory creates (sample rates, metrics, timeouts, ...).</param>
    /// <returns>A builder to add providers with.</returns>
    public static IVoicePipelineBuilder AddVoicePipeline(this IServiceCollection services, Action<PipelineTaskOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.AddLogging();
        services.AddOptions();
        if (!services.Any(d => d.ServiceType == typeof(PipelineTaskFactory)))
        {
            // The container's clock and logging first, so a configure delegate may still replace them.
            services.AddOptions<PipelineTaskOptions>().Configure<TimeProvider, ILoggerFactory>(static (options, time, logging) =>
            {
                options.TimeProvider = time;
                options.LoggerFactory = logging;
            });
            services.AddSingleton<IValidateOptions<PipelineTaskOptions>, PipelineTaskOptionsValidator>();
            services.AddOptions<PipelineTaskOptions>().ValidateOnStart();
            services.TryAddSingleton<PipelineTaskFactory>();
        }
        if (configure is not null)
            services.Configure(configure);
        return new VoicePipelineBuilder(services);
    }

    /// <summary>Checks the task settings at start: rates, capacities and timeouts in range.</summary>
    private sealed class PipelineTaskOptionsValidator : IValidateOptions<PipelineTaskOptions>
    {
        public ValidateOptionsResult Validate(string? name, PipelineTaskOptions options)
        {
            var errors = new List<string>();
            void Check(bool valid, string option, object? value, string rule)
            {
                if (!valid)
                    errors.Add($"PipelineTaskOptions.{option} {rule}; it is {value}.");
            }
            Check(options.AudioInSampleRate > 0, nameof(options.AudioInSampleRate), options.AudioInSampleRate, "must be more than 0");
            Check(options.AudioOutSampleRate > 0, nameof(options.AudioOutSampleRate), options.AudioOutSampleRate, "must be more than 0");
            Check(options.ObserverQueueCapacity > 0, nameof(options.ObserverQueueCapacity), options.ObserverQueueCapacity, "must be more than 0");
            Check(options.IdleTimeout is null || options.IdleTimeout > TimeSpan.Zero, nameof(options.IdleTimeout), options.IdleTimeout, "must be null or more than 0");
            Check(options.CancelTimeout > TimeSpan.Zero, nameof(options.CancelTimeout), options.CancelTimeout, "must be more than 0");
            Check(options.ShutdownTimeout > TimeSpan.Zero, nameof(options.ShutdownTimeout), options.ShutdownTimeout, "must be more than 0");
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
