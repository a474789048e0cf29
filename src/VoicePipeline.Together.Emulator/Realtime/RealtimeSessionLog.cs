namespace VoicePipeline.Together.Emulator.Realtime;

/// <summary>
/// What one realtime connection received, for assertions in tests. The API key is redacted. The connection itself
/// (URL, headers, whether it was accepted, sizes) is always logged; its events and audio only when the emulator records
/// (<see cref="TogetherEmulatorOptions.RecordRealtimeSessions"/>), and its audio only up to
/// <see cref="TogetherEmulatorOptions.MaxRecordedAudioBytes"/>, so a long or busy run does not keep every session's audio.
/// </summary>
public sealed class RealtimeSessionLog
{
    private readonly Lock _gate = new();
    private readonly List<string>? _events;
    private readonly MemoryStream? _audio;
    private readonly int _maxAudioBytes;
    private long _audioBytesReceived;
    private readonly List<TimeSpan> _commitDurations = [];

    internal RealtimeSessionLog(string url, IReadOnlyDictionary<string, string> headers, bool accepted, bool record, int maxAudioBytes)
    {
        Url = url;
        Headers = headers;
        Accepted = accepted;
        IsRecorded = record;
        _maxAudioBytes = maxAudioBytes;
        if (record)
        {
            _events = [];
            _audio = new MemoryStream();
        }
    }

    /// <summary>Gets the request path and query.</summary>
    public string Url { get; }

    /// <summary>Gets the request headers, with the key redacted.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>Gets whether the handshake was accepted.</summary>
    public bool Accepted { get; }

    /// <summary>Gets whether this connection's events and audio were recorded (<see cref="TogetherEmulatorOptions.RecordRealtimeSessions"/>).</summary>
    public bool IsRecorded { get; }

    /// <summary>Gets the types of the events received, in order.</summary>
    /// <exception cref="InvalidOperationException">The emulator does not record sessions.</exception>
    public IReadOnlyList<string> Events
    {
        get
        {
            var events = _events ?? throw NotRecorded();
            lock (_gate)
                return events.ToArray();
        }
    }

    /// <summary>Gets the audio received (PCM s16le as sent), up to <see cref="TogetherEmulatorOptions.MaxRecordedAudioBytes"/>.</summary>
    /// <exception cref="InvalidOperationException">The emulator does not record sessions.</exception>
    public byte[] Audio
    {
        get
        {
            var audio = _audio ?? throw NotRecorded();
            lock (_gate)
                return audio.ToArray();
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

    /// <summary>Gets how many bytes of audio the connection received in all, recorded or not.</summary>
    public long AudioBytesReceived => Interlocked.Read(ref _audioBytesReceived);

    /// <summary>Gets the largest single append received, in bytes of PCM.</summary>
    public int LargestAppendBytes { get; private set; }

    /// <summary>Told of each event recorded (the emulator's waits).</summary>
    internal Action<string>? EventAdded { get; set; }

    internal void AddEvent(string type)
    {
        if (_events is null)
            return;
        lock (_gate)
            _events.Add(type);
        EventAdded?.Invoke(type);
    }

    internal void AddCommitDuration(TimeSpan duration)
    {
        lock (_gate)
            _commitDurations.Add(duration);
    }

    internal void AddAudio(ReadOnlySpan<byte> pcm)
    {
        Interlocked.Add(ref _audioBytesReceived, pcm.Length);
        LargestAppendBytes = Math.Max(LargestAppendBytes, pcm.Length);
        if (_audio is null)
            return;
        lock (_gate)
        {
            var room = (int)Math.Max(0, _maxAudioBytes - _audio.Length);
            _audio.Write(pcm[..Math.Min(room, pcm.Length)]);
        }
    }

    private static InvalidOperationException NotRecorded()
        => new("The emulator did not record this realtime session: set TogetherEmulatorOptions.RecordRealtimeSessions = true to keep its events and audio.");
}
