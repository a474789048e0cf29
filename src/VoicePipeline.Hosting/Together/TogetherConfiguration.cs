using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Realtime;
using VoicePipeline.Together.Speech;

namespace VoicePipeline.Hosting.Together;

/// <summary>
/// Where the Together settings of one <c>AddTogether</c> call come from: a configuration (the one given, else the
/// container's <see cref="IConfiguration"/>, else the environment variables) and the caller's delegate.
/// </summary>
/// <remarks>
/// Keys: <c>Together:ApiKey</c> (or the <c>TOGETHER_API_KEY</c> variable when that is empty), <c>Together:BaseUrl</c>,
/// <c>Together:MaxRetries</c>, <c>Together:RetryBaseDelay</c>, <c>Together:ChatModel</c>, and every property of
/// <see cref="TogetherSttOptions"/> under <c>Together:Stt</c> and of <see cref="TogetherTtsOptions"/> under
/// <c>Together:Tts</c>. The delegate runs last and wins.
/// </remarks>
internal sealed class TogetherConfiguration(IConfiguration? configuration, Action<TogetherClientOptions>? configure)
{
    /// <summary>The configuration section of the Together settings.</summary>
    public const string SectionName = "Together";

    /// <summary>The key of the chat model in <see cref="SectionName"/>.</summary>
    public const string ChatModelKey = "ChatModel";

    /// <summary>The configuration in use.</summary>
    public IConfiguration Resolve(IServiceProvider services)
        => configuration ?? services.GetService<IConfiguration>() ?? new ConfigurationBuilder().AddEnvironmentVariables().Build();

    /// <summary>Fills client options: the container's clock, then configuration, then the delegate.</summary>
    public void Apply(TogetherClientOptions options, IServiceProvider services)
    {
        options.TimeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System;
        var root = Resolve(services);
        var section = root.GetSection(SectionName);
        options.ApiKey = NonEmpty(section[nameof(TogetherClientOptions.ApiKey)]) ?? NonEmpty(root[TogetherClientOptions.ApiKeyEnvironmentVariable]) ?? options.ApiKey;
        Bind(section, nameof(TogetherClientOptions.BaseUrl), v => options.BaseUrl = v, ParseUri);
        Bind(section, nameof(TogetherClientOptions.MaxRetries), v => options.MaxRetries = v, int.Parse);
        Bind(section, nameof(TogetherClientOptions.RetryBaseDelay), v => options.RetryBaseDelay = v, TimeSpan.Parse);
        configure?.Invoke(options);
    }

    /// <summary>The client settings as they stand, without validation (which is the start-up check's job).</summary>
    public TogetherClientOptions Client(IServiceProvider services)
    {
        var options = new TogetherClientOptions();
        Apply(options, services);
        return options;
    }

    /// <summary>Fills realtime STT options: key and URL of the client settings, then <c>Together:Stt</c>.</summary>
    public void Apply(TogetherSttOptions options, IServiceProvider services)
    {
        var client = Client(services);
        (options.ApiKey, options.BaseUrl) = (client.ApiKey, client.BaseUrl);
        BindSection(Resolve(services).GetSection($"{SectionName}:Stt"), options);
    }

    /// <summary>Fills TTS options: key, URL and retries of the client settings, then <c>Together:Tts</c>.</summary>
    public void Apply(TogetherTtsOptions options, IServiceProvider services)
    {
        var client = Client(services);
        (options.ApiKey, options.BaseUrl, options.MaxRetries, options.RetryBaseDelay) = (client.ApiKey, client.BaseUrl, client.MaxRetries, client.RetryBaseDelay);
        BindSection(Resolve(services).GetSection($"{SectionName}:Tts"), options);
    }

    /// <summary>The chat model (<c>Together:ChatModel</c>), or <paramref name="fallback"/>.</summary>
    public string ChatModel(IServiceProvider services, string fallback)
        => NonEmpty(Resolve(services).GetSection(SectionName)[ChatModelKey]) ?? fallback;

    private static void BindSection(IConfigurationSection section, object options)
    {
        try
        {
            section.Bind(options);
        }
        catch (InvalidOperationException exception)
        {
            throw new InvalidOperationException($"The configuration section {section.Path} cannot be read: {exception.Message}", exception);
        }
    }

    private static void Bind<T>(IConfigurationSection section, string key, Action<T> set, Func<string, IFormatProvider, T> parse)
    {
        if (NonEmpty(section[key]) is not { } text)
            return;
        try
        {
            set(parse(text, System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (FormatException exception)
        {
            throw new InvalidOperationException($"The configuration value {section.Path}:{key} ('{text}') is not a valid {typeof(T).Name}.", exception);
        }
        catch (OverflowException exception)
        {
            throw new InvalidOperationException($"The configuration value {section.Path}:{key} ('{text}') is not a valid {typeof(T).Name}.", exception);
        }
    }

    private static Uri ParseUri(string text, IFormatProvider _) => new(text, UriKind.RelativeOrAbsolute);

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
