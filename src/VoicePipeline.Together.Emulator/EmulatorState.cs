using VoicePipeline.Together.Emulator.Realtime;
using VoicePipeline.Together.Emulator.Transcriptions;

namespace VoicePipeline.Together.Emulator;

/// <summary>What the emulator observed, shared by its endpoints and exposed to tests.</summary>
internal sealed class EmulatorState
{
    private readonly Lock _gate = new();
    private readonly List<RealtimeSessionLog> _realtime = [];
    private readonly List<TranscriptionRequestLog> _transcriptions = [];

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
            _transcriptions.Add(log);
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
        lock (_gate)
            _realtime.Add(log);
    }
}
