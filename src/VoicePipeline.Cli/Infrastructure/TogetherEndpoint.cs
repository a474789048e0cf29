using VoicePipeline.Together.Client;
using VoicePipeline.Together.Emulator;

namespace VoicePipeline.Cli.Infrastructure;

/// <summary>
/// Where a command talks to: Together AI with a key, a given base URL, or (no key, no URL) the embedded emulator,
/// started in-process so the very same clients run offline.
/// </summary>
internal sealed class TogetherEndpoint : IAsyncDisposable
{
    private readonly TogetherEmulator? _emulator;

    private TogetherEndpoint(Uri baseUrl, string apiKey, TogetherEmulator? emulator)
    {
        BaseUrl = baseUrl;
        ApiKey = apiKey;
        _emulator = emulator;
    }

    public Uri BaseUrl { get; }

    public string ApiKey { get; }

    public bool IsEmulator => _emulator is not null;

    /// <param name="apiKey">--api-key, or null for the environment's key.</param>
    /// <param name="baseUrl">--base-url, or null.</param>
    /// <param name="fetchAudioUrls">
    /// Whether an embedded emulator fetches http(s) audio URLs given as the file, as Together does: only for a command
    /// whose own user passed the URL (batch transcription), never for a server.
    /// </param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<TogetherEndpoint> ResolveAsync(string? apiKey, string? baseUrl, bool fetchAudioUrls = false, CancellationToken cancellationToken = default)
    {
        apiKey ??= Environment.GetEnvironmentVariable(TogetherClientOptions.ApiKeyEnvironmentVariable);
        apiKey = string.IsNullOrWhiteSpace(apiKey) ? null : apiKey;
        if (baseUrl is not null && !Uri.TryCreate(baseUrl, UriKind.Absolute, out _))
            throw new ArgumentException($"--base-url: '{baseUrl}' is not an absolute URL");
        if (apiKey is not null)
            return new TogetherEndpoint(baseUrl is null ? TogetherClientOptions.DefaultBaseUrl : new Uri(baseUrl), apiKey, null);
        if (baseUrl is not null)
            throw new ArgumentException($"no API key for {baseUrl}: set {TogetherClientOptions.ApiKeyEnvironmentVariable} or pass --api-key");

        Console.Error.WriteLine($"vp: no {TogetherClientOptions.ApiKeyEnvironmentVariable} set: running offline against the embedded Together emulator (PocketSphinx recognition, espeak-ng speech). Set {TogetherClientOptions.ApiKeyEnvironmentVariable} or pass --api-key to use Together AI.");
        var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { FetchFileUrls = fetchAudioUrls }, cancellationToken).ConfigureAwait(false);
        return new TogetherEndpoint(emulator.BaseUrl, "offline-emulator", emulator);
    }

    public async ValueTask DisposeAsync()
    {
        if (_emulator is not null)
            await _emulator.DisposeAsync().ConfigureAwait(false);
    }
}
