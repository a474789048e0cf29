namespace VoicePipeline.Together.Emulator.Realtime;

/// <summary>Faults the realtime endpoint injects, for tests of clients (yours included).</summary>
public sealed class RealtimeFaults
{
    /// <summary>Gets or sets an HTTP status (401, 403, 429, 503, ...) with which to reject the next handshakes.</summary>
    public int? RejectHandshakeStatus { get; set; }

    /// <summary>Gets or sets how many handshakes to reject with <see cref="RejectHandshakeStatus"/> (null: all).</summary>
    public int? RejectHandshakeCount { get; set; }

    /// <summary>Gets or sets after how many bytes of received audio the connection is dropped (abruptly, once).</summary>
    public long? DropAfterAudioBytes { get; set; }

    /// <summary>Gets or sets a close code to close with instead of an abrupt drop (for example 4503, "overloaded").</summary>
    public int? DropWithCloseCode { get; set; }

    /// <summary>Gets or sets after how many bytes of received audio the server stops answering (it keeps the socket open).</summary>
    public long? StallAfterAudioBytes { get; set; }

    /// <summary>Gets or sets how many connections stall at <see cref="StallAfterAudioBytes"/> (null: every one).</summary>
    public int? StallCount { get; set; }

    /// <summary>Gets or sets whether the server sends garbage (not JSON) and unknown events right after <c>session.created</c>.</summary>
    public bool SendGarbage { get; set; }

    /// <summary>Gets or sets the commit numbers (1-based) whose turn fails with a <c>failed</c> event.</summary>
    public ISet<int> FailTurns { get; } = new HashSet<int>();

    internal int HandshakesRejected;
    internal int Drops;

    internal int Stalls;
}
