namespace VoicePipeline.Together.Emulator.Realtime;

/// <summary>What one realtime connection received, for assertions in tests. The API key is redacted.</summary>
public sealed class RealtimeSessionLog
{
    private readonly Lock _gate = new();
    private readonly List<string> _events = [];
    private readonly MemoryStream _audio = new();
    private readonly List<TimeSpan> _commitDurations = [];

    internal RealtimeSessionLog(string url, IReadOnlyDictionary<string, string> headers, bool accepted)
    {
        Url = url;
        Headers = headers;
        Accepted = accepted;
    }

    /// <summary>Gets the request path and query.</summary>
    public string Url { get; }

    /// <summary>Gets the request headers, with the key redacted.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>Gets whether the handshake was accepted.</summary>
    public bool Accepted { get; }

    /// <summary>Gets the types of the events received, in order.</summary>
    public IReadOnlyList<string> Events
    {
        get
        {
            lock (_gate)
                return _events.ToArray();
        }
    }

    /// <summary>Gets the audio received (PCM s16le as sent).</summary>
    public byte[] Audio
    {
        get
        {
            lock (_gate)
                return _audio.ToArray();
        }
    }

    /// <summary>
    /// Gets, per commit in order, the emulator's own time to answer it: from receiving the commit to having sent its
    /// final transcript (or its failure), on the emulator's clock.
    /// </summary>
    public IReadOnlyList<TimeSpan> CommitDurations
    {
        get
        {
            lock (_gate)
                return _commitDurations.ToArray();
        }
    }

    /// <summary>Gets the largest single append received, in bytes of PCM.</summary>
    public int LargestAppendBytes { get; private set; }

    internal void AddEvent(string type)
    {
        lock (_gate)
            _events.Add(type);
    }

    internal void AddCommitDuration(TimeSpan duration)
    {
        lock (_gate)
            _commitDurations.Add(duration);
    }

    internal void AddAudio(ReadOnlySpan<byte> pcm)
    {
        lock (_gate)
        {
            _audio.Write(pcm);
            LargestAppendBytes = Math.Max(LargestAppendBytes, pcm.Length);
        }
    }
}
