using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using VoicePipeline.Frames;
using VoicePipeline.Processors;

namespace VoicePipeline.Transports;

/// <summary>
/// The base of output transports (a socket, a speaker, a file): plays <see cref="OutputAudioRawFrame"/>s out in small
/// chunks from a bounded buffer, at their real rate by the pipeline's clock (or as fast as the sink takes them), and
/// knows from what it plays when the bot speaks.
/// </summary>
/// <remarks>
/// <para>Data and control frames leave in step with the audio before them: a frame queued behind audio goes on once that
/// audio has played. <see cref="TtsTextFrame"/>s are released as their audio plays: a word with a position
/// (<see cref="TtsTextFrame.AudioStart"/> in its synthesis context) when the chunk holding that position starts to play;
/// a text without one (a whole sentence, after its audio) is cut into words spread over the sentence's audio. So what
/// follows the transport (an assistant aggregator) sees exactly the words heard.</para>
/// <para><see cref="BotStartedSpeakingFrame"/> goes upstream and downstream when audio starts to play,
/// <see cref="BotStoppedSpeakingFrame"/> when the audio before a <see cref="TtsStoppedFrame"/> has played, after
/// <see cref="OutputTransportOptions.BotStopDelay"/> with nothing to play, at an interruption, or at the end.</para>
/// <para>An <see cref="InterruptionFrame"/> drops all queued audio (and the words not yet heard) at once, then
/// <see cref="OnPlaybackInterruptedAsync"/> tells the client to stop what it already holds. An <see cref="EndFrame"/>
/// waits until everything queued has played. Subclasses write the audio (<see cref="WriteAudioAsync"/>), converting it
/// to their own format, and learn of every frame leaving through <see cref="OnFrameOutAsync"/>.</para>
/// </remarks>
public abstract partial class OutputTransport : FrameProcessor
{
    private readonly OutputTransportOptions _options;
    private readonly Lock _gate = new();
    private readonly Queue<Item> _queue = new();
    private readonly Stack<Item> _pool = new();
    private readonly CancellationTokenSource _stop = new();
    private List<Frame> _immediate = [];
    private List<Frame> _immediateSpare = [];
    private TimeSpan _queued;
    private int _epoch;
    private bool _speaking;
    private TaskCompletionSource? _wake;
    private TaskCompletionSource? _space;
    private Task? _loop;
    private ITimer? _timer; // the playout loop's one timer: re-armed for each wait, it wakes the loop like an enqueue
    private CancellationTokenRegistration _stopWakes;

    // Taking side (the process loop).
    private readonly List<TtsTextFrame> _pendingWords = [];
    private string? _context;
    private TimeSpan _contextTime;
    private long _framesTaken;

    // Playing side (the playout loop).
    private long _origin;
    private TimeSpan _position;
    private TimeSpan _lastAudioEnd;
    private bool _underrun = true;

    /// <summary>Initializes the transport.</summary>
    protected OutputTransport(OutputTransportOptions? options = null, string? name = null)
        : base(name)
    {
        _options = (options?.Clone() ?? new OutputTransportOptions()).Validate();
    }

    /// <summary>Gets the transport's settings (a copy; changing it has no effect).</summary>
    public OutputTransportOptions Options => _options.Clone();

    /// <summary>Gets whether the bot is speaking, as far as the audio played out tells.</summary>
    public bool IsBotSpeaking
    {
        get
        {
            lock (_gate)
                return _speaking;
        }
    }

    /// <summary>Gets how much audio waits in the buffer to be played.</summary>
    public TimeSpan QueuedAudio
    {
        get
        {
            lock (_gate)
                return _queued;
        }
    }

    /// <summary>
    /// Gets whether the transport writes silence while the bot is silent, so its output follows the clock (a recording of
    /// the conversation as heard). Only in real time; false by default.
    /// </summary>
    protected virtual bool WritesSilence => false;

    /// <summary>
    /// Writes one chunk of audio (PCM s16le at the frame's rate and channels) when it is due to play. Called on the
    /// playout loop, one chunk at a time. A failure is reported as an <see cref="ErrorFrame"/> and playing goes on.
    /// </summary>
    /// <param name="audio">The chunk; valid only until the returned task completes.</param>
    /// <param name="sampleRate">Its sample rate.</param>
    /// <param name="channels">Its number of interleaved channels.</param>
    /// <param name="cancellationToken">Fires when the transport stops.</param>
    protected abstract ValueTask WriteAudioAsync(ReadOnlyMemory<byte> audio, int sampleRate, int channels, CancellationToken cancellationToken);

    /// <summary>Writes <paramref name="duration"/> of silence (only when <see cref="WritesSilence"/> is true).</summary>
    protected virtual ValueTask WriteSilenceAsync(TimeSpan duration, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>
    /// Called for every frame leaving downstream, just before it is pushed on: system frames on arrival, the others in
    /// step with the audio played (spoken words as they are heard). Send them to the client here.
    /// </summary>
    protected virtual ValueTask OnFrameOutAsync(Frame frame, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>
    /// Called when an interruption dropped the queued audio, before the <see cref="InterruptionFrame"/> goes on: tell the
    /// client to stop playing what it already holds.
    /// </summary>
    protected virtual ValueTask OnPlaybackInterruptedAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc />
    protected override ValueTask OnStartAsync(StartFrame frame, CancellationToken cancellationToken)
    {
        _origin = TimeProvider.GetTimestamp();
        _timer = TimeProvider.CreateTimer(static state => ((OutputTransport)state!).Wake(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _stopWakes = _stop.Token.UnsafeRegister(static state => ((OutputTransport)state!).Wake(), this);
        _loop = Task.Run(() => PlayAsync(_stop.Token), CancellationToken.None);
        return ValueTask.CompletedTask;
    }

    /// <summary>Waits until everything queued has played, says the bot stopped if it was speaking, and stops playing.</summary>
    protected override async ValueTask OnEndAsync(EndFrame frame, CancellationToken cancellationToken)
    {
        if (_loop is null)
            return;
        FlushPendingWords();
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            var item = RentItem(ItemKind.Drain);
            item.Drained = drained;
            _queue.Enqueue(item);
            WakeLocked();
        }
        await drained.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        await StopLoopAsync().ConfigureAwait(false);
        if (TryStopSpeaking(Volatile.Read(ref _epoch)))
            await PushBotSpeakingAsync(started: false).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override async ValueTask OnCancelAsync(CancelFrame frame, CancellationToken cancellationToken)
    {
        await StopLoopAsync().ConfigureAwait(false);
        lock (_gate)
            ClearLocked(keepUninterruptible: false);
    }

    /// <inheritdoc />
    public override async ValueTask CleanupAsync(CancellationToken cancellationToken = default)
    {
        await StopLoopAsync().ConfigureAwait(false);
        await base.CleanupAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override ValueTask DisposeAsyncCore()
    {
        _stopWakes.Dispose();
        _timer?.Dispose();
        _stop.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Gets how many downstream frames the transport has taken in since it started (tests move a fake clock once the frames sent are in).</summary>
    internal long FramesTaken => Volatile.Read(ref _framesTaken);

    /// <inheritdoc />
    protected sealed override async ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        if (direction == FrameDirection.Upstream)
        {
            await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (_loop is null)
        {
            // Not started (no StartFrame reached it): nothing plays, the frame goes on.
            await OnFrameOutAsync(frame, cancellationToken).ConfigureAwait(false);
            await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
            return;
        }
        switch (frame)
        {
            case OutputAudioRawFrame audio:
                await TakeAudioAsync(audio, cancellationToken).ConfigureAwait(false);
                break;
            case TtsTextFrame text when text.ContextId is not null:
                TakeText(text, cancellationToken);
                break;
            default:
                FlushPendingWords();
                Enqueue(frame, cancellationToken);
                break;
        }
        Volatile.Write(ref _framesTaken, _framesTaken + 1);
    }

    /// <inheritdoc />
    protected override ValueTask OnInterruptedAsync(CancellationToken cancellationToken)
    {
        // The queue was dropped when the interruption arrived: the words waiting for their audio go with it.
        _pendingWords.Clear();
        _context = null;
        _contextTime = TimeSpan.Zero;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected sealed override async ValueTask ProcessSystemFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        if (direction == FrameDirection.Upstream)
        {
            await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (frame is InterruptionFrame)
        {
            bool wasSpeaking;
            lock (_gate)
            {
                _epoch++;
                ClearLocked(keepUninterruptible: true);
                wasSpeaking = _speaking;
                _speaking = false;
                WakeLocked();
            }
            Log.Interrupted(Logger, Name);
            await OnPlaybackInterruptedAsync(cancellationToken).ConfigureAwait(false);
            await OnFrameOutAsync(frame, cancellationToken).ConfigureAwait(false);
            await PushFrameAsync(frame, FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
            if (wasSpeaking)
                await PushBotSpeakingAsync(started: false).ConfigureAwait(false);
            return;
        }
        await OnFrameOutAsync(frame, cancellationToken).ConfigureAwait(false);
        await PushFrameAsync(frame, FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask TakeAudioAsync(OutputAudioRawFrame audio, CancellationToken cancellationToken)
    {
        var context = (audio as TtsAudioRawFrame)?.ContextId;
        if (context is null || context != _context)
        {
            FlushPendingWords();
            _context = context;
            _contextTime = TimeSpan.Zero;
        }
        var bytesPerSample = 2 * audio.Channels;
        var chunkBytes = Math.Max(1, (int)Math.Round(audio.SampleRate * _options.ChunkDuration.TotalSeconds)) * bytesPerSample;
        var bytes = audio.Audio;
        if (bytes.IsEmpty)
        {
            Enqueue(audio, cancellationToken);
            return;
        }
        for (var offset = 0; offset < bytes.Length; offset += chunkBytes)
        {
            var length = Math.Min(chunkBytes, bytes.Length - offset);
            var duration = TimeSpan.FromSeconds((double)(length / bytesPerSample) / audio.SampleRate);
            await WaitForSpaceAsync(cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                cancellationToken.ThrowIfCancellationRequested(); // an interruption cleared the queue: add nothing after it
                var item = RentItem(ItemKind.Audio);
                if (item.Audio is null || item.Audio.Length < length)
                    item.Audio = new byte[Math.Max(length, chunkBytes)];
                bytes.Span.Slice(offset, length).CopyTo(item.Audio);
                item.Length = length;
                item.SampleRate = audio.SampleRate;
                item.Channels = audio.Channels;
                item.Duration = duration;
                item.Context = context;
                item.Start = _contextTime;
                item.Frame = offset + length >= bytes.Length && _options.PassAudioThrough ? audio : null;
                if (context is not null)
                    AttachPendingWords(item);
                _queue.Enqueue(item);
                _queued += duration;
                WakeLocked();
            }
            _contextTime += duration;
        }
    }

    /// <summary>Spoken text of a synthesis context: a timed word waits for its audio, an untimed text is spread over it.</summary>
    private void TakeText(TtsTextFrame text, CancellationToken cancellationToken)
    {
        if (text.ContextId != _context)
        {
            FlushPendingWords();
            _context = text.ContextId;
            _contextTime = TimeSpan.Zero;
        }
        if (text.AudioStart is { } start)
        {
            if (start >= _contextTime)
                _pendingWords.Add(text); // its audio is still to come
            else
                AttachToQueued(text, start, cancellationToken);
            return;
        }
        if (_contextTime == TimeSpan.Zero || string.IsNullOrWhiteSpace(text.Text))
        {
            Enqueue(text, cancellationToken); // no audio to spread it over
            return;
        }
        // A sentence's text after its audio: one word at a time, at its share of the sentence's audio by characters.
        var sentence = text.Text;
        var total = (double)sentence.Length;
        var index = 0;
        while (index < sentence.Length)
        {
            while (index < sentence.Length && char.IsWhiteSpace(sentence[index]))
                index++;
            var begin = index;
            while (index < sentence.Length && !char.IsWhiteSpace(sentence[index]))
                index++;
            if (index == begin)
                break;
            var wordStart = _contextTime * (begin / total);
            var word = new TtsTextFrame(sentence[begin..index]) { AudioStart = wordStart, AudioEnd = _contextTime * (index / total), ContextId = text.ContextId };
            AttachToQueued(word, wordStart, cancellationToken);
        }
    }

    /// <summary>Attaches to the just-queued chunk the pending words that start within it (called under the gate).</summary>
    private void AttachPendingWords(Item item)
    {
        var end = item.Start + item.Duration;
        var taken = 0;
        while (taken < _pendingWords.Count && _pendingWords[taken].AudioStart < end)
        {
            (item.Words ??= []).Add(_pendingWords[taken]);
            taken++;
        }
        if (taken > 0)
            _pendingWords.RemoveRange(0, taken);
    }

    /// <summary>A word whose audio was already taken: released with the queued chunk holding it, or at once if that played.</summary>
    private void AttachToQueued(TtsTextFrame word, TimeSpan start, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var item in _queue)
            {
                if (item.Kind == ItemKind.Audio && item.Context == word.ContextId && start < item.Start + item.Duration)
                {
                    (item.Words ??= []).Add(word);
                    return;
                }
            }
            _immediate.Add(word); // its audio has played: it goes before whatever plays next
            WakeLocked();
        }
    }

    /// <summary>Timed words beyond their context's audio go out in order, before what follows.</summary>
    private void FlushPendingWords()
    {
        if (_pendingWords.Count == 0)
            return;
        lock (_gate)
        {
            foreach (var word in _pendingWords)
                _queue.Enqueue(RentFrameItem(word));
            _pendingWords.Clear();
            WakeLocked();
        }
    }

    private void Enqueue(Frame frame, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (frame is not IUninterruptibleFrame)
                cancellationToken.ThrowIfCancellationRequested();
            _queue.Enqueue(RentFrameItem(frame));
            WakeLocked();
        }
    }

    private async ValueTask WaitForSpaceAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task space;
            lock (_gate)
            {
                if (_queued < _options.BufferDuration || _queue.Count == 0)
                    return;
                space = (_space ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
            await space.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The playout loop: takes the queue in order, paced by the clock in real time.</summary>
    private async Task PlayAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await PlayNextAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The loop must go on: a failure is reported as an ErrorFrame.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                Log.WriteFailed(Logger, exception, Name);
                await PushErrorAsync($"{Name} failed playing out: {exception.Message}", exception, ErrorCategory.Processing, cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask PlayNextAsync(CancellationToken stop)
    {
        Item? head;
        Task wake;
        int epoch;
        List<Frame>? immediate = null;
        lock (_gate)
        {
            epoch = _epoch;
            if (_immediate.Count > 0)
            {
                immediate = _immediate;
                (_immediate, _immediateSpare) = (_immediateSpare, _immediate);
            }
            _queue.TryPeek(out head);
            wake = (_wake ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
        if (immediate is not null)
        {
            foreach (var frame in immediate)
                await ReleaseAsync(frame, epoch, stop).ConfigureAwait(false);
            immediate.Clear();
            return;
        }
        if (head is null)
        {
            await IdleAsync(wake, stop).ConfigureAwait(false);
            return;
        }
        var realTime = _options.RealTime;
        switch (head.Kind)
        {
            case ItemKind.Audio:
                if (realTime)
                {
                    var now = Now;
                    if (_underrun && _position < now)
                    {
                        // Nothing played since the last audio ended: the sink was silent until now.
                        if (WritesSilence)
                            await WriteSilenceSafelyAsync(now - _position, stop).ConfigureAwait(false);
                        _position = now;
                    }
                    else if (now < _position)
                    {
                        await WaitAsync(_position, wake, stop).ConfigureAwait(false); // the chunk before is still playing
                        return;
                    }
                }
                await PlayChunkAsync(head, epoch, stop).ConfigureAwait(false);
                break;
            case ItemKind.Frame when head.Frame is TtsStoppedFrame && IsBotSpeaking:
                if (realTime && Now < _position)
                {
                    await WaitAsync(_position, wake, stop).ConfigureAwait(false); // its audio is still playing
                    return;
                }
                if (!TryDequeue(head, epoch))
                    return;
                if (TryStopSpeaking(epoch))
                    await PushBotSpeakingAsync(started: false).ConfigureAwait(false);
                await ReleaseAsync(head.Frame!, epoch, stop).ConfigureAwait(false);
                ReturnItem(head);
                break;
            case ItemKind.Frame:
                if (!TryDequeue(head, epoch))
                    return;
                await ReleaseAsync(head.Frame!, epoch, stop).ConfigureAwait(false);
                ReturnItem(head);
                break;
            default: // drained: everything before has played
                if (realTime)
                {
                    var now = Now;
                    if (now < _position)
                    {
                        await WaitAsync(_position, wake, stop).ConfigureAwait(false);
                        return;
                    }
                    if (WritesSilence && _position < now)
                    {
                        await WriteSilenceSafelyAsync(now - _position, stop).ConfigureAwait(false);
                        _position = now;
                    }
                }
                if (!TryDequeue(head, epoch, uninterruptible: true))
                    return;
                head.Drained!.TrySetResult();
                ReturnItem(head);
                break;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask PlayChunkAsync(Item chunk, int epoch, CancellationToken stop)
    {
        List<TtsTextFrame>? words;
        bool started;
        lock (_gate)
        {
            if (epoch != _epoch || !_queue.TryPeek(out var current) || !ReferenceEquals(current, chunk))
                return;
            _queue.Dequeue();
            _queued -= chunk.Duration;
            if (_queued < _options.BufferDuration)
            {
                _space?.TrySetResult();
                _space = null;
            }
            started = !_speaking;
            _speaking = true;
            words = chunk.Words;
            chunk.Words = null;
        }
        _underrun = false;
        if (started)
            await PushBotSpeakingAsync(started: true).ConfigureAwait(false);
        if (words is not null)
        {
            foreach (var word in words)
                await ReleaseAsync(word, epoch, stop).ConfigureAwait(false);
        }
        if (epoch == Volatile.Read(ref _epoch))
        {
            try
            {
                await WriteAudioAsync(chunk.Audio.AsMemory(0, chunk.Length), chunk.SampleRate, chunk.Channels, stop).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !stop.IsCancellationRequested)
            {
                Log.WriteFailed(Logger, exception, Name);
                await PushErrorAsync($"{Name} could not play audio: {exception.Message}", exception, ErrorCategory.Connectivity, cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
        }
        if (_options.RealTime)
        {
            _position += chunk.Duration;
            _lastAudioEnd = _position;
        }
        else
        {
            _lastAudioEnd = Now;
        }
        if (chunk.Frame is { } frame)
            await ReleaseAsync(frame, epoch, stop).ConfigureAwait(false);
        ReturnItem(chunk);
    }

    private async ValueTask IdleAsync(Task wake, CancellationToken stop)
    {
        _underrun = true;
        TimeSpan? botStop = IsBotSpeaking ? _lastAudioEnd + _options.BotStopDelay : null;
        TimeSpan? tick = _options.RealTime && WritesSilence ? _position + _options.ChunkDuration : null;
        var now = Now;
        if (tick is { } t && t <= now)
        {
            var chunks = (now - _position).Ticks / _options.ChunkDuration.Ticks;
            var silence = _options.ChunkDuration * chunks;
            await WriteSilenceSafelyAsync(silence, stop).ConfigureAwait(false);
            _position += silence;
            return;
        }
        if (botStop is { } s && s <= now)
        {
            bool stopped;
            lock (_gate)
            {
                stopped = _speaking && _queue.Count == 0 && _immediate.Count == 0;
                if (stopped)
                    _speaking = false;
            }
            if (stopped)
                await PushBotSpeakingAsync(started: false).ConfigureAwait(false);
            return;
        }
        TimeSpan? until = (tick, botStop) switch
        {
            ({ } a, { } b) => a < b ? a : b,
            ({ } a, null) => a,
            (null, { } b) => b,
            _ => null,
        };
        await WaitAsync(until, wake, stop).ConfigureAwait(false);
    }

    private async ValueTask WriteSilenceSafelyAsync(TimeSpan duration, CancellationToken stop)
    {
        try
        {
            await WriteSilenceAsync(duration, stop).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            Log.WriteFailed(Logger, exception, Name);
        }
    }

    /// <summary>Hands a frame to the subclass, then pushes it on unless an interruption came meanwhile.</summary>
    private async ValueTask ReleaseAsync(Frame frame, int epoch, CancellationToken stop)
    {
        var uninterruptible = frame is IUninterruptibleFrame;
        if (!uninterruptible && epoch != Volatile.Read(ref _epoch))
            return;
        await OnFrameOutAsync(frame, stop).ConfigureAwait(false);
        lock (_gate)
        {
            if (uninterruptible || epoch == _epoch)
                _ = PushFrameAsync(frame, FrameDirection.Downstream, CancellationToken.None);
        }
    }

    private bool TryDequeue(Item item, int epoch, bool uninterruptible = false)
    {
        lock (_gate)
        {
            if ((!uninterruptible && epoch != _epoch) || !_queue.TryPeek(out var current) || !ReferenceEquals(current, item))
                return false;
            _queue.Dequeue();
            return true;
        }
    }

    private async ValueTask PushBotSpeakingAsync(bool started)
    {
        Frame down = started ? new BotStartedSpeakingFrame() : new BotStoppedSpeakingFrame();
        Frame up = started ? new BotStartedSpeakingFrame() : new BotStoppedSpeakingFrame();
        await PushFrameAsync(up, FrameDirection.Upstream, CancellationToken.None).ConfigureAwait(false);
        await OnFrameOutAsync(down, CancellationToken.None).ConfigureAwait(false);
        await PushFrameAsync(down, FrameDirection.Downstream, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Marks the bot silent if it was speaking and no interruption came since <paramref name="epoch"/>.</summary>
    private bool TryStopSpeaking(int epoch)
    {
        lock (_gate)
        {
            if (!_speaking || epoch != _epoch)
                return false;
            _speaking = false;
            return true;
        }
    }

    private void ClearLocked(bool keepUninterruptible)
    {
        var count = _queue.Count;
        for (var i = 0; i < count; i++)
        {
            var item = _queue.Dequeue();
            if (keepUninterruptible && (item.Kind == ItemKind.Drain || item.Frame is IUninterruptibleFrame && item.Kind == ItemKind.Frame))
                _queue.Enqueue(item);
            else
                ReturnItem(item);
        }
        _immediate.Clear();
        _queued = TimeSpan.Zero;
        _space?.TrySetResult();
        _space = null;
    }

    private void Wake()
    {
        lock (_gate)
            WakeLocked();
    }

    private void WakeLocked()
    {
        _wake?.TrySetResult();
        _wake = null;
    }

    private async ValueTask StopLoopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is { } loop)
            await loop.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private TimeSpan Now => TimeProvider.GetElapsedTime(_origin);

    /// <summary>A move of the clock while a timer is armed that is more than the time arming takes.</summary>
    private static readonly TimeSpan s_clockJump = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// Waits until <paramref name="until"/> by the pipeline's clock (exact under a fake clock), a wake-up, or the loop's
    /// stop (then it returns and the loop ends). <paramref name="wake"/> is the wake-up taken with the queue's state, so
    /// nothing that changed that state since is missed; the timer and the stop complete it too, and a stale timer's
    /// early wake-up only makes the loop look at the queue once more. No timer, task or promise is made per wait.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WaitAsync(TimeSpan? until, Task wake, CancellationToken stop)
    {
        if (until is { } due)
        {
            var remaining = due - Now;
            if (remaining <= TimeSpan.Zero)
                return;
            _timer!.Change(remaining, Timeout.InfiniteTimeSpan);
            // A timer's period counts from when it is armed: if the clock jumped between reading it and arming (a fake
            // clock's step), the timer would fire that much after the due time. Arm it again until the reading holds.
            while (true)
            {
                var left = due - Now;
                if (left <= TimeSpan.Zero)
                    return;
                if (remaining - left < s_clockJump)
                    break;
                remaining = left;
                _timer.Change(remaining, Timeout.InfiniteTimeSpan);
            }
        }
        // The stop's flag is set before its wake-up runs: a wake-up taken after that one is seen here instead.
        if (!stop.IsCancellationRequested)
            await wake.ConfigureAwait(false);
    }

    private Item RentItem(ItemKind kind)
    {
        var item = _pool.Count > 0 ? _pool.Pop() : new Item();
        item.Kind = kind;
        return item;
    }

    private Item RentFrameItem(Frame frame)
    {
        var item = RentItem(ItemKind.Frame);
        item.Frame = frame;
        return item;
    }

    private void ReturnItem(Item item)
    {
        lock (_gate)
        {
            item.Frame = null;
            item.Words = null;
            item.Drained = null;
            item.Context = null;
            if (_pool.Count < 256)
                _pool.Push(item);
        }
    }

    private enum ItemKind
    {
        Audio,
        Frame,
        Drain,
    }

    /// <summary>One entry of the playout queue: a chunk of audio (with the words that start in it), a frame, or the end.</summary>
    private sealed class Item
    {
        public ItemKind Kind;
        public byte[]? Audio;
        public int Length;
        public int SampleRate;
        public int Channels;
        public TimeSpan Duration;
        public string? Context;
        public TimeSpan Start;
        public List<TtsTextFrame>? Words;
        public Frame? Frame;
        public TaskCompletionSource? Drained;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "{Processor}: interrupted, queued audio dropped")]
        public static partial void Interrupted(ILogger logger, string processor);

        [LoggerMessage(Level = LogLevel.Warning, Message = "{Processor}: writing audio failed")]
        public static partial void WriteFailed(ILogger logger, Exception exception, string processor);
    }
}
