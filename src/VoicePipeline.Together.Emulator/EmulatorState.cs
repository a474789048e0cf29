using VoicePipeline.Together.Emulator.Chat;
using VoicePipeline.Together.Emulator.Realtime;
using VoicePipeline.Together.Emulator.Speech;
using VoicePipeline.Together.Emulator.Transcriptions;

namespace VoicePipeline.Together.Emulator;

/// <summary>What the emulator observed, shared by its endpoints and exposed to tests.</summary>
internal sealed class EmulatorState(int maxEntries = int.MaxValue)
{
    private readonly Lock _gate = new();
    private readonly List<RealtimeSessionLog> _realtime = [];
    private readonly List<TranscriptionRequestLog> _transcriptions = [];
    private readonly List<SpeechRequestLog> _speech = [];
    private readonly List<ChatRequestLog> _chat = [];

    public IReadOnlyList<ChatRequestLog> ChatRequests
    {
        get
        {
            lock (_gate)
                return _chat.ToArray();
        }
    }

    public void AddChatRequest(ChatRequestLog log)
    {
        lock (_gate)
            _chat.Add(log);
    }

    public IReadOnlyList<SpeechRequestLog> SpeechRequests
    {
        get
        {
            lock (_gate)
                return _speech.ToArray();
        }
    }

    public void AddSpeechRequest(SpeechRequestLog log)
    {
        lock (_gate)
            Add(_speech, log);
    }

    public IReadOnlyList<TranscriptionRequestLog> TranscriptionRequests
    {
        get
        {
            lock (_gate)
                return _transcriptions.ToArray();
        }
    }

    public void AddTranscriptionRequest(TranscriptionRequestLog log)
    {
        lock (_gate)
            Add(_transcriptions, log);
    }

    public IReadOnlyList<RealtimeSessionLog> RealtimeSessions
    {
        get
        {
            lock (_gate)
                return _realtime.ToArray();
        }
    }

    public void AddRealtimeSession(RealtimeSessionLog log)
    {
        log.EventAdded = OnRealtimeEvent;
        lock (_gate)
            Add(_realtime, log);
    }

    private readonly List<(string Type, TaskCompletionSource Signal)> _eventWaiters = [];

    /// <summary>Completes when a recorded realtime connection has received an event of <paramref name="type"/> (at once if one already has).</summary>
    public Task WaitForRealtimeEventAsync(string type, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_realtime.Any(s => s.IsRecorded && s.Events.Contains(type)))
                return Task.CompletedTask;
            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _eventWaiters.Add((type, signal));
            return signal.Task.WaitAsync(cancellationToken);
        }
    }

    private void OnRealtimeEvent(string type)
    {
        lock (_gate)
        {
            for (var i = _eventWaiters.Count - 1; i >= 0; i--)
            {
                if (_eventWaiters[i].Type == type)
                {
                    _eventWaiters[i].Signal.TrySetResult();
                    _eventWaiters.RemoveAt(i);
                }
            }
        }
    }

    private void Add<T>(List<T> list, T entry)
    {
        if (list.Count >= maxEntries)
            list.RemoveRange(0, list.Count - maxEntries + 1); // keeps the most recent
        list.Add(entry);
    }
}
