using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using VoicePipeline.Together.Client;

namespace VoicePipeline.Hosting.Tests.Together;

/// <summary>Without an <c>IConfiguration</c> in the container, <c>AddTogether</c> reads the environment variables.</summary>
public sealed class EnvironmentFallbackTests
{
    [Fact]
    public void Without_a_configuration_the_environment_variable_is_read()
    {
        var before = Environment.GetEnvironmentVariable(TogetherClientOptions.ApiKeyEnvironmentVariable);
        Environment.SetEnvironmentVariable(TogetherClientOptions.ApiKeyEnvironmentVariable, "sk-from-environment-81");
        try
        {
            var services = new ServiceCollection();
            services.AddVoicePipeline().AddTogether();
            using var provider = services.BuildServiceProvider();

            provider.GetRequiredService<IOptions<TogetherClientOptions>>().Value.ApiKey.Should().Be("sk-from-environment-81");
            provider.GetRequiredService<IStartupValidator>().Validate();
        }
        finally
        {
            Environment.SetEnvironmentVariable(TogetherClientOptions.ApiKeyEnvironmentVariable, before);
        }
    }
}
