using System.Buffers;
using VoicePipeline.Frames;
using VoicePipeline.Services;
using VoicePipeline.Together.Client;

namespace VoicePipeline.Together.Realtime;

/// <summary>
/// Together's realtime speech-to-text as a frame processor, placed after a VAD. It streams every
/// <see cref="InputAudioRawFrame"/> (as 16 kHz mono, resampled by the project's resampler when needed), commits the
/// server's buffer on every <see cref="UserStoppedSpeakingFrame"/>, and emits <see cref="InterimTranscriptionFrame"/>s
/// (from <c>delta</c>) and finalized <see cref="TranscriptionFrame"/>s (from <c>completed</c>). The protocol around
/// it (reconnect with replay, live settings or a new connection at the end of the turn, keep-alive, the bounded wait
/// for the last transcript at the end of the stream) is <see cref="RealtimeSttService"/>'s; this class opens the socket.
/// </summary>
public sealed class TogetherSttService : RealtimeSttService
{
    private readonly TogetherSttOptions _options;

    // Append buffers are rented on the audio thread and returned by the send loop: a pool of our own avoids the
    // shared pool's per-thread caches, which would miss on every cross-thread return.
    private readonly ArrayPool<byte> _buffers = ArrayPool<byte>.Create(64 * 1024, 256);

    /// <summary>Creates the service.</summary>
    public TogetherSttService(TogetherSttOptions? options = null, string? name = null)
        : this(Checked(options?.Clone() ?? new TogetherSttOptions()), name, cloned: true)
    {
    }

    private TogetherSttService(TogetherSttOptions options, string? name, bool cloned)
        : base(new SttSettings { Model = options.Model, Language = options.Language, Prompt = options.Prompt }, 16_000, new RealtimeSttOptions
        {
            FinalTranscriptTimeout = options.FinalTranscriptTimeout,
            ReconnectBaseDelay = options.ReconnectBaseDelay,
            ReconnectMaxDelay = options.ReconnectMaxDelay,
            MaxConnectAttempts = options.MaxConnectAttempts,
            MaxReplay = options.MaxReplay,
            KeepAliveInterval = options.KeepAliveInterval,
            DropCountResetAfter = options.DropCountResetAfter,
            AppendInterval = options.AppendInterval,
            StallTimeout = options.StallTimeout,
        }, options.UserId, name)
        => _options = options;

    /// <summary>Checks the options once, where the service is built (before the base class sees them): out of range is an error, never corrected.</summary>
    private static TogetherSttOptions Checked(TogetherSttOptions options)
    {
        options.Validate().ThrowIfAny();
        return options;
    }

    /// <summary>Gets the model in use.</summary>
    public string Model => Settings.Model!;

    /// <summary>Gets the language in use, if set.</summary>
    public string? Language => Settings.Language;

    /// <summary>Gets how many messages wait for the socket (benchmarks).</summary>
    internal int PendingSends => (Session as TogetherRealtimeSession)?.PendingSends ?? 0;

    /// <summary>Called with a <see cref="System.Diagnostics.Stopwatch"/> timestamp whenever a commit leaves the socket (benchmarks).</summary>
    internal Action<long>? CommitSent { get; set; }

    /// <summary>The append path alone (benchmarks).</summary>
    internal void AppendAudio(InputAudioRawFrame audio) => Append(audio);

    /// <summary>Called on the input loop with each audio frame once it is in the stream's buffer (the load benchmark's lag probe, which so costs no hop of its own).</summary>
    internal Action<InputAudioRawFrame>? AudioTaken { get; set; }

    /// <inheritdoc />
    protected override ValueTask OnAudioAsync(InputAudioRawFrame audio, CancellationToken cancellationToken)
    {
        var appended = base.OnAudioAsync(audio, cancellationToken);
        AudioTaken?.Invoke(audio);
        return appended;
    }

    /// <inheritdoc />
    protected override async ValueTask OnStartAsync(StartFrame frame, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(_options.ApiKey))
        {
            await FailAsync(new ServiceFailure($"No Together API key: set {TogetherClientOptions.ApiKeyEnvironmentVariable} or TogetherSttOptions.ApiKey.",
                ErrorCategory.Authentication, true), cancellationToken: cancellationToken).ConfigureAwait(false);
            return;
        }
        await base.OnStartAsync(frame, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override async Task<IRealtimeSttSession> ConnectAsync(SttSettings settings, CancellationToken cancellationToken)
    {
        var connection = await RealtimeConnection.ConnectAsync(_options.BuildUri(settings.Model!), _options.ApiKey!, _options.SessionTimeout, TimeProvider, CommitSent, cancellationToken).ConfigureAwait(false);
        var session = new TogetherRealtimeSession(connection, _buffers, Logger);
        if (settings.Language is not null || settings.Prompt is not null)
            session.Update(settings);
        return session;
    }

    /// <inheritdoc />
    protected override ServiceFailure DescribeFailure(Exception exception) => exception is TogetherApiException api
        ? new ServiceFailure(api.Message, api.Category, api.IsPermanent)
        : base.DescribeFailure(exception);
}
