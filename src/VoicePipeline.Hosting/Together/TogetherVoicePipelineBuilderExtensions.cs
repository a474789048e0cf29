using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VoicePipeline.Hosting;
using VoicePipeline.Hosting.Together;
using VoicePipeline.Together.Chat;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Realtime;
using VoicePipeline.Together.Speech;
using VoicePipeline.Together.Transcriptions;

namespace Microsoft.Extensions.DependencyInjection;

#pragma warning disable MEAI001 // ISpeechToTextClient and ITextToSpeechClient are experimental in Microsoft.Extensions.AI; registered knowingly.

/// <summary>Adds Together AI to a voice pipeline's services.</summary>
public static class TogetherVoicePipelineBuilderExtensions
{
    /// <summary>The service key of the Together registrations that are also offered without a key (<see cref="IChatClient"/>, ...).</summary>
    public const string ServiceKey = "together";

    /// <summary>
    /// Adds Together with its settings read from the container's <see cref="IConfiguration"/> (or, when there is none,
    /// from the environment variables): <c>Together:ApiKey</c> or <c>TOGETHER_API_KEY</c>, <c>Together:BaseUrl</c>,
    /// <c>Together:MaxRetries</c>, <c>Together:RetryBaseDelay</c>, <c>Together:ChatModel</c>, <c>Together:Stt:*</c>
    /// and <c>Together:Tts:*</c>. See <see cref="AddTogether(IVoicePipelineBuilder, IConfiguration, Action{TogetherClientOptions}?)"/>.
    /// </summary>
    /// <param name="builder">The builder from <c>AddVoicePipeline()</c>.</param>
    /// <param name="configure">Runs after configuration is read, and wins (for example to set the key in code).</param>
    public static IVoicePipelineBuilder AddTogether(this IVoicePipelineBuilder builder, Action<TogetherClientOptions>? configure = null)
        => AddTogether(builder, new TogetherConfiguration(null, configure));

    /// <summary>
    /// Adds Together with its settings read from <paramref name="configuration"/>, validated when the host starts (a
    /// missing key is one clear <see cref="OptionsValidationException"/> then, not a failure in the first session):
    /// <list type="bullet">
    /// <item><see cref="IOptions{TOptions}"/> of <see cref="TogetherClientOptions"/>, <see cref="TogetherSttOptions"/> and
    /// <see cref="TogetherTtsOptions"/> (the key and base URL set once, shared by all; the container's clock);</item>
    /// <item><see cref="TogetherServiceFactory"/>: creates <see cref="TogetherSttService"/> and <see cref="TogetherTtsService"/> per session;</item>
    /// <item>singletons <see cref="TogetherTranscriptionClient"/> and <see cref="TogetherSpeechClient"/> (logging to the
    /// container's logger factory), Microsoft.Extensions.AI's <see cref="IChatClient"/>, <see cref="ISpeechToTextClient"/>
    /// and <see cref="ITextToSpeechClient"/> over them, keyed <see cref="ServiceKey"/>, and unkeyed unless already registered.</item>
    /// </list>
    /// </summary>
    /// <param name="builder">The builder from <c>AddVoicePipeline()</c>.</param>
    /// <param name="configuration">The configuration root the <c>Together</c> section and <c>TOGETHER_API_KEY</c> are read from.</param>
    /// <param name="configure">Runs after configuration is read, and wins.</param>
    public static IVoicePipelineBuilder AddTogether(this IVoicePipelineBuilder builder, IConfiguration configuration, Action<TogetherClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return AddTogether(builder, new TogetherConfiguration(configuration, configure));
    }

    private static IVoicePipelineBuilder AddTogether(IVoicePipelineBuilder builder, TogetherConfiguration source)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<TogetherClientOptions>().Configure<IServiceProvider>(source.Apply).ValidateOnStart();
        services.AddOptions<TogetherSttOptions>().Configure<IServiceProvider>(source.Apply).ValidateOnStart();
        services.AddOptions<TogetherTtsOptions>().Configure<IServiceProvider>(source.Apply).ValidateOnStart();
        if (services.Any(d => d.ServiceType == typeof(TogetherServiceFactory)))
            return builder; // a second AddTogether only adds its settings

        var validator = new TogetherOptionsValidator();
        services.AddSingleton<IValidateOptions<TogetherClientOptions>>(validator);
        services.AddSingleton<IValidateOptions<TogetherSttOptions>>(validator);
        services.AddSingleton<IValidateOptions<TogetherTtsOptions>>(validator);
        services.TryAddSingleton<TogetherServiceFactory>();
        services.TryAddSingleton(static sp => new TogetherTranscriptionClient(
            sp.GetRequiredService<IOptions<TogetherClientOptions>>().Value, null, sp.GetService<ILoggerFactory>()));
        services.TryAddSingleton(static sp => new TogetherSpeechClient(
            sp.GetRequiredService<IOptions<TogetherClientOptions>>().Value, null, sp.GetService<ILoggerFactory>())
        {
            SessionTimeout = sp.GetRequiredService<IOptions<TogetherTtsOptions>>().Value.SessionTimeout,
        });

        services.AddKeyedSingleton<IChatClient>(ServiceKey, (sp, _) => TogetherChat.CreateChatClient(
            sp.GetRequiredService<IOptions<TogetherClientOptions>>().Value, source.ChatModel(sp, TogetherChat.DefaultModel)));
        services.AddKeyedSingleton<ISpeechToTextClient>(ServiceKey, (sp, _) => new TogetherSpeechToTextClient(
            sp.GetRequiredService<TogetherTranscriptionClient>()));
        services.AddKeyedSingleton<ITextToSpeechClient>(ServiceKey, (sp, _) =>
        {
            var tts = sp.GetRequiredService<IOptions<TogetherTtsOptions>>().Value;
            return new TogetherTextToSpeechClient(sp.GetRequiredService<TogetherSpeechClient>(), tts.Model, tts.Voice);
        });
        // Unkeyed too, unless the application registered its own: the same instances (their Dispose is idempotent).
        services.TryAddSingleton<IChatClient>(static sp => sp.GetRequiredKeyedService<IChatClient>(ServiceKey));
        services.TryAddSingleton<ISpeechToTextClient>(static sp => sp.GetRequiredKeyedService<ISpeechToTextClient>(ServiceKey));
        services.TryAddSingleton<ITextToSpeechClient>(static sp => sp.GetRequiredKeyedService<ITextToSpeechClient>(ServiceKey));
        return builder;
    }
}
