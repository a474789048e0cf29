using VoicePipeline.Together.Emulator.Realtime;

namespace VoicePipeline.Together.Emulator;

/// <summary>What the emulator observed, shared by its endpoints and exposed to tests.</summary>
internal sealed class EmulatorState
{
    private readonly Lock _gate = new();
    private readonly List<RealtimeSessionLog> _realtime = [];

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
