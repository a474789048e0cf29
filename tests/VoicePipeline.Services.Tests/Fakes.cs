using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using VoicePipeline.Frames;

namespace VoicePipeline.Services.Tests;

/// <summary>A realtime session in memory: records what the service sends; the test plays the server.</summary>
internal sealed class FakeSession : IRealtimeSttSession
{
    private readonly Channel<RealtimeSttEvent> _events = Channel.CreateUnbounded<RealtimeSttEvent>();
    private readonly List<short> _audio = [];
    private readonly Lock _gate = new();

    public FakeSession(SttSettings settings) => Settings = settings;

    public SttSettings Settings { get; }

    public List<string> Sent { get; } = [];

    /// <summary>Called after each append with the session's audio so far (the test may drop the session).</summary>
    public Action<FakeSession, int>? OnAppend { get; set; }

    public short[] Audio
    {
        get
        {
            lock (_gate)
                return [.. _audio];
        }
    }

    public int Commits
    {
        get
        {
            lock (_gate)
                return Sent.Count(s => s == "commit");
        }
    }

    /// <summary>Gets the length of each append, in order.</summary>
    public List<int> AppendLengths { get; } = [];

    public void Append(ReadOnlySpan<short> samples)
    {
        int total;
        lock (_gate)
        {
            foreach (var s in samples)
                _audio.Add(s);
            total = _audio.Count;
            if (!samples.IsEmpty)
                AppendLengths.Add(samples.Length);
        }
        if (!samples.IsEmpty)
            OnAppend?.Invoke(this, total);
    }

    public void Commit()
    {
        lock (_gate)
            Sent.Add("commit");
        OnCommit?.Invoke(this);
    }

    /// <summary>Called after each commit (the test answers with a transcript).</summary>
    public Action<FakeSession>? OnCommit { get; set; }

    public void Update(SttSettings settings)
    {
        lock (_gate)
            Sent.Add($"update:{settings.Language}");
    }

    public void Emit(RealtimeSttEvent e) => _events.Writer.TryWrite(e);

    public void Drop(string reason = "dropped") => _events.Writer.TryWrite(RealtimeSttEvent.Closed(reason));

    /// <summary>Completes when the service first reads the session's events, which it does once the session is live.</summary>
    public TaskCompletionSource Receiving { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask<RealtimeSttEvent> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        Receiving.TrySetResult();
        try
        {
            return await _events.Reader.ReadAsync(cancellationToken);
        }
        catch (ChannelClosedException)
        {
            return RealtimeSttEvent.Closed("closed");
        }
    }

    public Task CloseAsync(TimeSpan timeout)
    {
        _events.Writer.TryComplete();
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _events.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }
}

/// <summary>A realtime STT provider whose sessions are <see cref="FakeSession"/>s.</summary>
internal sealed class FakeRealtimeStt(SttSettings settings, RealtimeSttOptions? options = null, string? name = null)
    : RealtimeSttService(settings, 16_000, options, name: name)
{
    private readonly Lock _gate = new();

    public List<FakeSession> Sessions { get; } = [];

    public Action<FakeSession>? Configure { get; set; }

    public Func<int, Exception?>? FailConnect { get; set; }

    private int _attempts;

    protected override Task<IRealtimeSttSession> ConnectAsync(SttSettings settings, CancellationToken cancellationToken)
    {
        if (FailConnect?.Invoke(++_attempts) is { } failure)
            throw failure;
        var session = new FakeSession(settings);
        Configure?.Invoke(session);
        lock (_gate)
            Sessions.Add(session);
        return Task.FromResult<IRealtimeSttSession>(session);
    }

    public FakeSession[] Snapshot()
    {
        lock (_gate)
            return [.. Sessions];
    }
}

/// <summary>A TTS provider that "speaks" each text as one sample per character (value = the character), in chunks of 4.</summary>
internal sealed class FakeTts(TtsSettings settings, string? name = null) : TtsService(settings, name)
{
    public List<(string Text, TtsSettings Settings)> Requests { get; } = [];

    public int Rate { get; init; } = 24_000;

    /// <summary>When set, the synthesis waits on it after its first chunk (an interruption must cancel the wait).</summary>
    public TaskCompletionSource? Hold { get; set; }

    public TaskCompletionSource<bool> Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Exception? Failure { get; set; }

    public static short[] SamplesOf(string text) => text.Select(c => (short)c).ToArray();

    protected override async IAsyncEnumerable<TtsChunk> SynthesizeAsync(string text, TtsSettings settings, string contextId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Requests.Add((text, settings));
        if (Failure is { } failure)
            throw failure;
        var samples = SamplesOf(text);
        for (var i = 0; i < samples.Length; i += 4)
        {
            var chunk = samples.AsSpan(i, Math.Min(4, samples.Length - i));
            yield return new TtsChunk(MemoryMarshal.AsBytes(chunk).ToArray(), Rate);
            if (i == 0 && Hold is { } hold)
            {
                try
                {
                    await hold.Task.WaitAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    Cancelled.TrySetResult(true);
                    throw;
                }
            }
        }
    }
}

internal static class FrameExtensions
{
    public static short[] AudioOf(this IEnumerable<Frame> frames, string? context = null)
        => frames.OfType<TtsAudioRawFrame>().Where(f => context is null || f.ContextId == context)
            .SelectMany(f => MemoryMarshal.Cast<byte, short>(f.Audio.Span).ToArray()).ToArray();
}
