using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using VoicePipeline.Audio;
using VoicePipeline.Frames;

namespace VoicePipeline.Services;

#pragma warning disable MEAI001 // ISpeechToTextClient is experimental in Microsoft.Extensions.AI; this service is marked experimental with it.

/// <summary>
/// Speech-to-text over any Microsoft.Extensions.AI <see cref="ISpeechToTextClient"/> (a batch transcription API):
/// the audio of each VAD segment, from <see cref="UserStartedSpeakingFrame"/> (with a short pre-roll, since the VAD
/// reports a start late) to <see cref="UserStoppedSpeakingFrame"/>, is sent as one WAV file and its text becomes a
/// finalized <see cref="TranscriptionFrame"/>. Segments are transcribed one at a time, in order, beside the audio; an
/// <see cref="EndFrame"/> transcribes the segment in progress and waits (bounded) for the last transcripts.
/// </summary>
[Experimental("MEAI001")]
public sealed partial class SegmentedSttService : SttService
{
    private readonly ISpeechToTextClient _client;
    private readonly Channel<(short[] Audio, SpeechTurn Turn)> _segments = Channel.CreateUnbounded<(short[], SpeechTurn)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new(); // the buffer: audio arrives on the input loop, the end of the stream on the process loop
    private short[] _audio = new short[16_000 * 4];
    private int _count;
    private long _appended;
    private bool _speaking;
    private TimeSpan? _speechStart;
    private MonoConverter? _converter;
    private int _converterRate;
    private int _converterChannels;
    private Task? _worker;

    /// <summary>Creates the service over <paramref name="client"/> (not owned).</summary>
    /// <param name="client">The transcription client.</param>
    /// <param name="settings">The model, language and prompt to ask for (null: the client's defaults).</param>
    /// <param name="userId">The user id put on transcription frames.</param>
    /// <param name="name">The processor's name.</param>
    public SegmentedSttService(ISpeechToTextClient client, SttSettings? settings = null, string userId = "user", string? name = null)
        : base(settings ?? new SttSettings(), userId, name)
        => _client = client ?? throw new ArgumentNullException(nameof(client));

    /// <summary>Gets the rate segments are sent at (PCM s16 mono in a WAV file).</summary>
    public int SampleRate { get; init; } = 16_000;

    /// <summary>Gets how much audio before the VAD's start is included in a segment.</summary>
    public TimeSpan Preroll { get; init; } = TimeSpan.FromSeconds(0.5);

    /// <summary>Gets how long an <see cref="EndFrame"/> waits for the last transcripts.</summary>
    public TimeSpan FinalTranscriptTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <inheritdoc />
    protected override ValueTask OnStartAsync(StartFrame frame, CancellationToken cancellationToken)
    {
        _worker = Task.Run(() => TranscribeSegmentsAsync(_stop.Token), CancellationToken.None);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override ValueTask OnAudioAsync(InputAudioRawFrame audio, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(audio);
        var samples = MemoryMarshal.Cast<byte, short>(audio.Audio.Span);
        if (audio.SampleRate != SampleRate || audio.Channels != 1)
        {
            if (_converter is null || _converterRate != audio.SampleRate || _converterChannels != audio.Channels)
                (_converter, _converterRate, _converterChannels) = (new MonoConverter(audio.SampleRate, audio.Channels, SampleRate), audio.SampleRate, audio.Channels);
            samples = _converter.Convert(samples);
        }
        var preroll = (int)(Preroll.TotalSeconds * SampleRate);
        lock (_gate)
        {
            if (!_speaking && _count > 2 * preroll + samples.Length)
            {
                // Between segments only the pre-roll is kept; trimmed in one go once it doubles (amortized).
                _audio.AsSpan(_count - preroll, preroll).CopyTo(_audio);
                _count = preroll;
            }
            if (_count + samples.Length > _audio.Length)
                Array.Resize(ref _audio, Math.Max(_audio.Length * 2, _count + samples.Length));
            samples.CopyTo(_audio.AsSpan(_count));
            _count += samples.Length;
            _appended += samples.Length;
        }
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override ValueTask OnSpeechStartedAsync(UserStartedSpeakingFrame frame, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var preroll = (int)(Preroll.TotalSeconds * SampleRate);
        lock (_gate)
        {
            if (_count > preroll)
            {
                _audio.AsSpan(_count - preroll, preroll).CopyTo(_audio);
                _count = preroll;
            }
            (_speaking, _speechStart) = (true, frame.SpeechStart);
        }
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override ValueTask OnSpeechStoppedAsync(UserStoppedSpeakingFrame frame, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(frame);
        lock (_gate)
            Cut(frame.SpeechEnd, frame.StopSecs);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override async ValueTask OnEndAsync(EndFrame frame, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_speaking)
                Cut(TimeSpan.FromSeconds((double)_appended / SampleRate), 0);
        }
        _segments.Writer.TryComplete();
        if (_worker is null)
            return;
        try
        {
            await _worker.WaitAsync(FinalTranscriptTimeout, TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await PushErrorAsync($"No final transcript within {FinalTranscriptTimeout.TotalSeconds:0.#} s of the end of the stream.",
                category: ErrorCategory.Connectivity, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    protected override async ValueTask OnCancelAsync(CancelFrame frame, CancellationToken cancellationToken)
    {
        _segments.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask CleanupAsync(CancellationToken cancellationToken = default)
    {
        _segments.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_worker is not null)
            await _worker.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await base.CleanupAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Queues the segment in progress for transcription (caller holds the lock).</summary>
    private void Cut(TimeSpan speechEnd, double stopSecs)
    {
        if (_count > 0)
        {
            var turn = new SpeechTurn(_appended, _speechStart, speechEnd, TimeProvider.GetTimestamp(), stopSecs);
            _segments.Writer.TryWrite((_audio.AsSpan(0, _count).ToArray(), turn));
            StartTtfbMetrics();
        }
        (_count, _speaking, _speechStart) = (0, false, null);
    }

    private async Task TranscribeSegmentsAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var (audio, turn) in _segments.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                var settings = Settings;
                using var wav = new MemoryStream(WavWriter.HeaderSize + audio.Length * 2);
                using (var writer = new WavWriter(wav, SampleRate, 1, leaveOpen: true))
                    writer.Write(audio);
                wav.Position = 0;
                var options = new SpeechToTextOptions { ModelId = settings.Model, SpeechLanguage = settings.Language, SpeechSampleRate = SampleRate };
                if (settings.Prompt is not null)
                    (options.AdditionalProperties ??= [])["prompt"] = settings.Prompt;
                try
                {
                    var response = await _client.GetTextAsync(wav, options, cancellationToken).ConfigureAwait(false);
                    await PushFinalAsync(response.Text, settings.Language, turn, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    var failure = ServiceFailure.Describe(exception);
                    Log.Failed(Logger, Name, failure.Message);
                    await PushFailureAsync(failure with { Message = $"Transcription of a segment failed: {failure.Message}" }, exception, cancellationToken: CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Cancelled: segments not yet transcribed are dropped.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 730, Level = LogLevel.Warning, Message = "{Service}: transcription of a segment failed: {Reason}")]
        public static partial void Failed(ILogger logger, string service, string reason);
    }
}
