using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using VoicePipeline.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Silero voice activity detection to a voice pipeline's services.</summary>
public static class SileroVadVoicePipelineBuilderExtensions
{
    /// <summary>
    /// Adds <see cref="SileroVadFactory"/> (a singleton: one model, one batcher shared by every session's analyzer),
    /// with its settings validated when the host starts.
    /// </summary>
    /// <param name="builder">The builder from <c>AddVoicePipeline()</c>.</param>
    /// <param name="configure">Changes to the settings (model file, batching, VAD parameters).</param>
    public static IVoicePipelineBuilder AddSileroVad(this IVoicePipelineBuilder builder, Action<SileroVadServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<SileroVadServiceOptions>();
        if (configure is not null)
            options.Configure(configure);
        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SileroVadServiceOptions>, Validator>());
        builder.Services.TryAddSingleton<SileroVadFactory>();
        return builder;
    }

    /// <summary>The batch wait in range, the VAD parameters valid.</summary>
    private sealed class Validator : IValidateOptions<SileroVadServiceOptions>
    {
        public ValidateOptionsResult Validate(string? name, SileroVadServiceOptions options)
        {
            var errors = new List<string>();
            if (options.BatchMaxWait <= TimeSpan.Zero || options.BatchMaxWait > TimeSpan.FromSeconds(1))
                errors.Add($"SileroVadServiceOptions.BatchMaxWait must be more than 0 and at most 1 s; it is {options.BatchMaxWait:c}.");
            if (options.Params is null)
                errors.Add("SileroVadServiceOptions.Params is required.");
            else
            {
                try
                {
                    options.Params.Validate();
                }
                catch (ArgumentOutOfRangeException exception)
                {
                    errors.Add($"SileroVadServiceOptions.Params.{exception.ParamName}: {exception.Message}");
                }
            }
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
