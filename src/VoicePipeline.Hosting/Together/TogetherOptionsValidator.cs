using Microsoft.Extensions.Options;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Realtime;
using VoicePipeline.Together.Speech;

namespace VoicePipeline.Hosting.Together;

/// <summary>
/// The start-up check of the Together settings: the same rules the clients and services apply when they are built,
/// every failure listed, and for the client settings a key, so that a missing key is one clear error at start.
/// </summary>
internal sealed class TogetherOptionsValidator :
    IValidateOptions<TogetherClientOptions>, IValidateOptions<TogetherSttOptions>, IValidateOptions<TogetherTtsOptions>
{
    /// <summary>The message of a missing key.</summary>
    public static readonly string MissingKey =
        $"No Together API key: set the {TogetherClientOptions.ApiKeyEnvironmentVariable} environment variable or {TogetherConfiguration.SectionName}:ApiKey in configuration, or TogetherClientOptions.ApiKey in AddTogether(...).";

    public ValidateOptionsResult Validate(string? name, TogetherClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate().Errors.Select(e => e.Message).ToList();
        if (string.IsNullOrWhiteSpace(options.ApiKey))
            errors.Insert(0, MissingKey);
        return Result(errors);
    }

    public ValidateOptionsResult Validate(string? name, TogetherSttOptions options)
        => Result((options ?? throw new ArgumentNullException(nameof(options))).Validate().Errors.Select(e => e.Message).ToList());

    public ValidateOptionsResult Validate(string? name, TogetherTtsOptions options)
        => Result((options ?? throw new ArgumentNullException(nameof(options))).Validate().Errors.Select(e => e.Message).ToList());

    private static ValidateOptionsResult Result(List<string> errors) => errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
}
