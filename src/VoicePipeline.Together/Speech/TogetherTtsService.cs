using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using VoicePipeline.Audio;
using VoicePipeline.Frames;
using VoicePipeline.Metrics;
using VoicePipeline.Processors;
using VoicePipeline.Text;
using VoicePipeline.Together.Client;

namespace VoicePipeline.Together.Speech;

/// <summary>
/// Together's text-to-speech as a frame processor. It gathers plain <see cref="TextFrame"/>s (an LLM's token stream)
/// into sentences and synthesizes each as soon as it ends, so speech starts after the first sentence; a
/// <see cref="TtsSpeakFrame"/> is spoken at once. Around each reply (or spoken text) it emits
/// <see cref="TtsStartedFrame"/>, <see cref="TtsAudioRawFrame"/>s resampled to the pipeline's output rate,
/// <see cref="TtsTextFrame"/>s (timed words when the server sends them) and <see cref="TtsStoppedFrame"/>.
/// </summary>
/// <remarks>
/// An <see cref="InterruptionFrame"/> stops the synthesis in flight (WebSocket: <c>context.cancel</c>; HTTP: the request
/// is cancelled) and no audio of it leaves the processor after the interruption does. Transcriptions (subclasses of
/// <see cref="TextFrame"/>) pass through unspoken. A wrong key is one fatal <see cref="ErrorFrame"/>, after which text is
/// dropped; any other failure is reported and ends the reply with <see cref="TtsStoppedFrame.IsComplete"/> false.
/// </remarks>
public sealed partial class TogetherTtsService : FrameProcessor
{
    private const int ModelRate = SpeechRequest.ModelSampleRate;

    private readonly TogetherTtsOptions _options;
    private readonly SentenceAggregator _sentences = new();
    private readonly CancellationTokenSource _stop = new();
    private TogetherSpeechClient? _client;
    private Task<TogetherTtsConnection>? _connecting;
    private MonoConverter? _resampler; // null when the pipeline's output rate is the model's
    private string _model;
    private string _voice;
    private string? _language;
    private double? _speed;
    private bool _failed;
    private bool _speaking;
    private bool _inLlmResponse;
    private long _contexts;
    private string? _context;

    /// <summary>Creates the service.</summary>
    public TogetherTtsService(TogetherTtsOptions? options = null, string? name = null)
        : base(name)
    {
        _options = options?.Clone() ?? new TogetherTtsOptions();
        _model = _options.Model;
        _voice = _options.Voice;
        _language = _options.Language;
        _speed = _options.Speed;
        MetricsModel = _model;
    }

    /// <summary>Gets the model in use.</summary>
    public string Model => _model;

    /// <summary>Gets the voice in use.</summary>
    public string Voice => _voice;

    /// <inheritdoc />
    protected override async ValueTask OnStartAsync(StartFrame frame, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(_options.ApiKey))
        {
            _failed = true;
            await PushErrorAsync($"No Together API key: set {TogetherClientOptions.ApiKeyEnvironmentVariable} or TogetherTtsOptions.ApiKey.",
                category: ErrorCategory.Authentication, fatal: true, cancellationToken: cancellationToken).ConfigureAwait(false);
            return;
        }
        _client = new TogetherSpeechClient(_options.ToClientOptions(TimeProvider)) { SessionTimeout = _options.SessionTimeout };
        if (frame.AudioOutSampleRate != ModelRate)
        {
            _resampler = new MonoConverter(ModelRate, 1, frame.AudioOutSampleRate);
        }
        if (_options.Mode == TogetherTtsMode.WebSocket)
            _connecting = ConnectAsync(); // warm up: the first sentence should not pay for the handshake
    }

    /// <inheritdoc />
    protected override async ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        if (direction == FrameDirection.Upstream)
        {
            await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
            return;
        }

        switch (frame)
        {
            case TtsSpeakFrame speak:
                await SpeakAsync(speak.Text, cancellationToken).ConfigureAwait(false);
                StopSpeaking(complete: true, cancellationToken);
                break;
            case TextFrame text when text.GetType() == typeof(TextFrame):
                if (_failed)
                    break;
                foreach (var sentence in _sentences.Add(text.Text))
                    await SpeakAsync(sentence, cancellationToken).ConfigureAwait(false);
                if (!_inLlmResponse)
                    await FlushAsync(cancellationToken).ConfigureAwait(false); // text outside a streamed reply is whole
                break;
            case LlmFullResponseStartFrame:
                _inLlmResponse = true;
                await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
                break;
            case LlmFullResponseEndFrame:
                _inLlmResponse = false;
                await FlushAsync(cancellationToken).ConfigureAwait(false);
                await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
                break;
            case TtsUpdateSettingsFrame update:
                await ApplySettingsAsync(update).ConfigureAwait(false);
                await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
                break;
            default:
                await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    /// <inheritdoc />
    protected override ValueTask OnEndAsync(EndFrame frame, CancellationToken cancellationToken) => FlushAsync(cancellationToken);

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

    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_sentences.Flush() is { } rest && !_failed)
            await SpeakAsync(rest, cancellationToken).ConfigureAwait(false);
        StopSpeaking(complete: true, cancellationToken);
    }

    /// <summary>Synthesizes one sentence and pushes its audio and words; failures become error frames.</summary>
    private async ValueTask SpeakAsync(string text, CancellationToken cancellationToken)
    {
        if (_failed || string.IsNullOrWhiteSpace(text))
            return;
        var context = _context = $"{Name}-{Interlocked.Increment(ref _contexts)}";
        if (!_speaking)
        {
            _speaking = true;
            Push(new TtsStartedFrame { ContextId = context }, cancellationToken);
        }
        StartTtfbMetrics();
        var firstAudio = true;
        var timedWords = false;
        try
        {
            await foreach (var chunk in SynthesizeAsync(text, context, cancellationToken).ConfigureAwait(false))
            {
                if (chunk.Words is { } words)
                {
                    timedWords = true;
                    foreach (var word in words)
                        Push(new TtsTextFrame(word.Text) { AudioStart = word.Start, AudioEnd = word.End, ContextId = context }, cancellationToken);
                }
                if (chunk.Audio.IsEmpty)
                    continue;
                if (firstAudio)
                {
                    firstAudio = false;
                    await StopTtfbMetricsAsync(cancellationToken).ConfigureAwait(false);
                }
                PushAudio(Pcm.AsSamples(chunk.Audio.Span), flush: false, context, cancellationToken);
            }
            PushAudio([], flush: true, context, cancellationToken);
            if (!timedWords)
                Push(new TtsTextFrame(text) { ContextId = context }, cancellationToken);
            await ReportUsageAsync(new UsageMetricsData(Name, _model) { Characters = text.Length }, cancellationToken).ConfigureAwait(false);
        }
        catch (TogetherApiException exception) when (!cancellationToken.IsCancellationRequested)
        {
            _resampler?.Reset();
            var permanent = exception.Category is ErrorCategory.Authentication or ErrorCategory.Authorization;
            _failed = permanent;
            Log.SynthesisFailed(Logger, Name, exception.Message);
            await PushErrorAsync(permanent ? $"Together refused the speech request: {exception.Message}" : $"Speech synthesis failed: {exception.Message}",
                exception, exception.Category, fatal: permanent, cancellationToken).ConfigureAwait(false);
            StopSpeaking(complete: false, cancellationToken);
        }
    }

    private async IAsyncEnumerable<SpeechChunk> SynthesizeAsync(string text, string context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (_options.Mode == TogetherTtsMode.WebSocket)
        {
            var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
            await foreach (var chunk in connection.SynthesizeAsync(text, context, cancellationToken).ConfigureAwait(false))
                yield return chunk;
            yield break;
        }
        var request = new SpeechRequest { Input = text, Model = _model, Voice = _voice, Language = _language, Speed = _speed, SampleRate = ModelRate };
        await foreach (var chunk in _client!.StreamAsync(request, _options.Mode, cancellationToken).ConfigureAwait(false))
            yield return chunk;
    }

    /// <summary>Pushes 24 kHz samples as output audio at the pipeline's rate; <paramref name="flush"/> drains the resampler.</summary>
    private void PushAudio(ReadOnlySpan<short> samples, bool flush, string context, CancellationToken cancellationToken)
    {
        var output = _resampler is null ? samples : flush ? _resampler.Flush() : _resampler.Convert(samples);
        if (flush)
            _resampler?.Reset();
        if (output.IsEmpty)
            return;
        // Frames own their audio: downstream may keep it (a recorder, a jitter buffer).
        var bytes = MemoryMarshal.AsBytes(output).ToArray();
        Push(new TtsAudioRawFrame(bytes, StartFrame?.AudioOutSampleRate ?? ModelRate) { ContextId = context }, cancellationToken);
    }

    /// <summary>
    /// Pushes a frame of the synthesis in flight; once interrupted the synthesis stops here (and the base class drops a
    /// frame pushed with a cancelled token, so nothing of it can follow the interruption downstream).
    /// </summary>
    private void Push(Frame frame, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _ = PushFrameAsync(frame, FrameDirection.Downstream, cancellationToken);
    }

    /// <inheritdoc />
    protected override ValueTask OnInterruptedAsync(CancellationToken cancellationToken)
    {
        _sentences.Reset();
        _resampler?.Reset();
        _speaking = false;
        _inLlmResponse = false;
        return ValueTask.CompletedTask;
    }

    private void StopSpeaking(bool complete, CancellationToken cancellationToken)
    {
        if (!_speaking)
            return;
        _speaking = false;
        Push(new TtsStoppedFrame { IsComplete = complete, ContextId = _context }, cancellationToken);
    }

    private async ValueTask ApplySettingsAsync(TtsUpdateSettingsFrame update)
    {
        var modelChanged = update.Model is { } model && model != _model;
        var sessionChanged = (update.Voice is { } v && v != _voice) || (update.Language is { } l && l != _language) || (update.Speed is { } s && s != _speed);
        _model = update.Model ?? _model;
        _voice = update.Voice ?? _voice;
        _language = update.Language ?? _language;
        _speed = update.Speed ?? _speed;
        MetricsModel = _model;
        Log.SettingsApplied(Logger, Name, _model, _voice);
        if (_options.Mode != TogetherTtsMode.WebSocket || _failed || _client is null)
            return;
        if (modelChanged)
        {
            // The model is fixed per connection: open a new one now, so the next sentence does not wait for it.
            await CloseConnectionAsync().ConfigureAwait(false);
            _connecting = ConnectAsync();
        }
        else if (sessionChanged && _connecting is { IsCompletedSuccessfully: true } ready && ready.Result.IsOpen)
        {
            try
            {
                await ready.Result.UpdateSessionAsync(_voice, _speed, _language, _stop.Token).ConfigureAwait(false);
            }
            catch (TogetherApiException)
            {
                await CloseConnectionAsync().ConfigureAwait(false); // the next sentence reconnects with the new settings
            }
        }
        else if (sessionChanged)
        {
            await CloseConnectionAsync().ConfigureAwait(false);
        }
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
        var connection = await _client!.ConnectAsync(_model, _voice, _stop.Token).ConfigureAwait(false);
        if (_language is not null || _speed is not null)
            await connection.UpdateSessionAsync(speed: _speed, language: _language, cancellationToken: _stop.Token).ConfigureAwait(false);
        return connection;
    }

    private async ValueTask CloseConnectionAsync()
    {
        var connecting = Interlocked.Exchange(ref _connecting, null);
        if (connecting is null)
            return;
        try
        {
            var connection = await connecting.ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is TogetherApiException or OperationCanceledException)
        {
            // It never opened: nothing to close.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "{Processor}: synthesis failed: {Reason}")]
        public static partial void SynthesisFailed(ILogger logger, string processor, string reason);

        [LoggerMessage(Level = LogLevel.Information, Message = "{Processor}: speaking with {Model}, voice {Voice}")]
        public static partial void SettingsApplied(ILogger logger, string processor, string model, string voice);
    }
}
