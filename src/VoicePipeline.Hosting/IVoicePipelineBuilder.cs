using Microsoft.Extensions.DependencyInjection;

namespace VoicePipeline.Hosting;

/// <summary>
/// What <see cref="VoicePipelineServiceCollectionExtensions.AddVoicePipeline"/> returns: the service collection, for
/// the extensions that add providers (<c>AddTogether</c>, <c>AddSileroVad</c>, ...).
/// </summary>
public interface IVoicePipelineBuilder
{
    /// <summary>Gets the services the pipeline's parts are registered in.</summary>
    IServiceCollection Services { get; }
}

/// <summary>The one <see cref="IVoicePipelineBuilder"/>.</summary>
internal sealed class VoicePipelineBuilder(IServiceCollection services) : IVoicePipelineBuilder
{
    public IServiceCollection Services { get; } = services;
}
