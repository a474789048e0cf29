using System.Runtime.CompilerServices;
using VoicePipeline.Frames;
using VoicePipeline.Services;
using VoicePipeline.Together.Client;

namespace VoicePipeline.Together.Speech;

/// <summary>
/// Together's text-to-speech as a frame processor: <see cref="TtsService"/> (sentences, frames, metrics,
/// interruptions, settings) over Together's speech WebSocket (one warm connection; <c>context.cancel</c> on an
/// interruption; voice, speed and language changed live, a model change opens a new connection), server-sent events
/// or a REST body read while it downloads. A wrong key is one fatal <see cref="ErrorFrame"/>, after which text is dropped.
/// </summary>
public sealed class TogetherTtsService : TtsService
{
    private readonly TogetherTtsOptions _options;
    private readonly CancellationTokenSource _stop = new();
    private TogetherSpeechClient? _client;
    private Task<TogetherTtsConnection>? _connecting;

    /// <summary>Creates the service.</summary>
    public TogetherTtsService(TogetherTtsOptions? options = null, string? name = null)
        : this(Checked(options?.Clone() ?? new TogetherTtsOptions()), name, cloned: true)
    {
    }

    private TogetherTtsService(TogetherTtsOptions options, string? name, bool cloned)
        : base(new TtsSettings { Model = options.Model, Voice = options.Voice, Language = options.Language, Speed = options.Speed }, name)
        => _options = options;

    /// <summary>Checks the options once, where the service is built (before the base class sees them): out of range is an error, never corrected.</summary>
    private static TogetherTtsOptions Checked(TogetherTtsOptions options)
    {
        options.Validate().ThrowIfAny();
        return options;
    }

    /// <summary>Gets the model in use.</summary>
    public string Model => Settings.Model!;

    /// <summary>Gets the voice in use.</summary>
    public string Voice => Settings.Voice!;

    /// <inheritdoc />
    protected override async ValueTask OnStartAsync(StartFrame frame, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(_options.ApiKey))
        {
            await FailAsync(new ServiceFailure($"No Together API key: set {TogetherClientOptions.ApiKeyEnvironmentVariable} or TogetherTtsOptions.ApiKey.",
                ErrorCategory.Authentication, true), cancellationToken: cancellationToken).ConfigureAwait(false);
            return;
        }
        _client = new TogetherSpeechClient(_options.ToClientOptions(TimeProvider)) { SessionTimeout = _options.SessionTimeout, StallTimeout = _options.StallTimeout };
        if (_options.Mode == TogetherTtsMode.WebSocket)
            _connecting = ConnectAsync(); // warm up: the first sentence should not pay for the handshake
    }

    /// <inheritdoc />
    protected override async IAsyncEnumerable<TtsChunk> SynthesizeAsync(string text, TtsSettings settings, string contextId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var chunks = _options.Mode == TogetherTtsMode.WebSocket
            ? (await GetConnectionAsync(cancellationToken).ConfigureAwait(false)).SynthesizeAsync(text, contextId, cancellationToken)
            : _client!.StreamAsync(new SpeechRequest { Input = text, Model = settings.Model!, Voice = settings.Voice!, Language = settings.Language, Speed = settings.Speed }, _options.Mode, cancellationToken);
        await foreach (var chunk in chunks.ConfigureAwait(false))
            yield return new TtsChunk(chunk.Audio, chunk.SampleRate, chunk.Words?.Select(w => new TtsWord(w.Text, w.Start, w.End)).ToList());
    }

    /// <inheritdoc />
    protected override async ValueTask OnSettingsChangedAsync(IReadOnlyList<SettingChange> changes, CancellationToken cancellationToken)
    {
        if (_options.Mode != TogetherTtsMode.WebSocket || IsFailed || _client is null)
            return;
        if (changes.Has(nameof(TtsSettings.Model)))
        {
            // The model is fixed per connection: open a new one now, so the next sentence does not wait for it.
            await CloseConnectionAsync().ConfigureAwait(false);
            _connecting = ConnectAsync();
        }
        else if (_connecting is { IsCompletedSuccessfully: true } ready && ready.Result.IsOpen)
        {
            try
            {
                await ready.Result.UpdateSessionAsync(Settings.Voice, Settings.Speed, Settings.Language, _stop.Token).ConfigureAwait(false);
            }
            catch (TogetherApiException)
            {
                await CloseConnectionAsync().ConfigureAwait(false); // the next sentence reconnects with the new settings
            }
        }
        else
        {
            await CloseConnectionAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    protected override ServiceFailure DescribeFailure(Exception exception)
    {
        if (exception is not TogetherApiException api)
            return base.DescribeFailure(exception);
        var permanent = api.Category is ErrorCategory.Authentication or ErrorCategory.Authorization;
        return new(permanent ? $"Together refused the speech request: {api.Message}" : $"Speech synthesis failed: {api.Message}", api.Category, permanent);
    }

    /// <inheritdoc />
    public override async ValueTask CleanupAsync(CancellationToken cancellationToken = default)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await base.CleanupAsync(cancellationToken).ConfigureAwait(false);
        await CloseConnectionAsync().ConfigureAwait(false);
        _client?.Dispose();
    }

    /// <inheritdoc />
    protected override ValueTask DisposeAsyncCore()
    {
        _stop.Dispose();
        return ValueTask.CompletedTask;
    }

    private async ValueTask<TogetherTtsConnection> GetConnectionAsync(CancellationToken cancellationToken)
    {
        var connecting = _connecting;
        if (connecting is { IsCompletedSuccessfully: true } && !connecting.Result.IsOpen)
        {
            await CloseConnectionAsync().ConfigureAwait(false);
            connecting = null;
        }
        if (connecting is null || connecting.IsFaulted || connecting.IsCanceled)
            _connecting = connecting = ConnectAsync();
        try
        {
            // An interruption abandons the wait, not the handshake: the connection serves the next sentence.
            return await connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TogetherApiException("The speech WebSocket handshake was abandoned.", null, "connection_failed", null);
        }
    }

    private async Task<TogetherTtsConnection> ConnectAsync()
    {
        var settings = Settings;
        var connection = await _client!.ConnectAsync(settings.Model!, settings.Voice!, _stop.Token).ConfigureAwait(false);
        if (settings.Language is not null || settings.Speed is not null)
            await connection.UpdateSessionAsync(speed: settings.Speed, language: settings.Language, cancellationToken: _stop.Token).ConfigureAwait(false);
        return connection;
    }

    private async ValueTask CloseConnectionAsync()
    {
        if (Interlocked.Exchange(ref _connecting, null) is not { } connecting)
            return;
        try
        {
            await (await connecting.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is TogetherApiException or OperationCanceledException)
        {
            // It never opened: nothing to close.
        }
    }
}
