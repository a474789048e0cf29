namespace VoicePipeline.Together.Emulator.Speech;

/// <summary>The two shapes of audio events seen on Together's speech SSE stream.</summary>
public enum SpeechSseShape
{
    /// <summary><c>{"type":"conversation.item.audio_output.delta","item_id":"..","delta":"&lt;b64&gt;"}</c>.</summary>
    Delta,

    /// <summary><c>{"object":"audio.tts.chunk","model":"..","b64":"&lt;b64&gt;"}</c>.</summary>
    Chunk,
}

/// <summary>Faults and pacing the speech endpoints inject, for tests of clients.</summary>
public sealed class SpeechFaults : InjectedRefusals
{
    /// <summary>
    /// Gets or sets after how many audio chunks a synthesis fails: SSE sends an <c>error</c> event and ends without
    /// <c>[DONE]</c>, the WebSocket sends <c>conversation.item.tts.failed</c>, a plain body is cut off (connection aborted).
    /// </summary>
    public int? FailMidStreamAfterChunks { get; set; }

    /// <summary>
    /// Gets or sets after how many audio chunks a synthesis goes silent, as a stalled server does: no more audio, no end,
    /// and the connection stays open (0: before the word timings and any audio). A WebSocket context still obeys
    /// <c>context.cancel</c>.
    /// </summary>
    public int? StallAfterChunks { get; set; }

    /// <summary>Gets or sets a delay before the first audio of each synthesis (on the emulator's <see cref="TimeProvider"/>).</summary>
    public TimeSpan FirstByteDelay { get; set; }

    /// <summary>Gets or sets a pause between audio chunks (on the emulator's <see cref="TimeProvider"/>), to pace like real time.</summary>
    public TimeSpan ChunkInterval { get; set; }

    /// <summary>Gets or sets whether the first audio chunk of each utterance starts with a 44-byte RIFF header, as some servers send.</summary>
    public bool RiffHeaderInAudio { get; set; }

    /// <summary>Gets or sets the shape of the audio events of the SSE stream.</summary>
    public SpeechSseShape SseShape { get; set; } = SpeechSseShape.Delta;
}

/// <summary>How a speech request reached the emulator.</summary>
public enum SpeechTransport
{
    /// <summary><c>POST /audio/speech</c> answered with a whole body.</summary>
    Rest,

    /// <summary><c>POST /audio/speech</c> with <c>stream: true</c>, answered with server-sent events.</summary>
    Sse,

    /// <summary>A commit on the speech WebSocket.</summary>
    WebSocket,
}

/// <summary>What one synthesis was asked for and how it went, for assertions in tests.</summary>
public sealed class SpeechRequestLog
{
    private long _firstAudioTicks = -1;
    private int _cancelled;

    internal SpeechRequestLog(SpeechTransport transport, string model, string voice, string text, double? speed, string? language, int sampleRate, string? contextId)
    {
        Transport = transport;
        Model = model;
        Voice = voice;
        Text = text;
        Speed = speed;
        Language = language;
        SampleRate = sampleRate;
        ContextId = contextId;
    }

    /// <summary>Gets how the request arrived.</summary>
    public SpeechTransport Transport { get; }

    /// <summary>Gets the model.</summary>
    public string Model { get; }

    /// <summary>Gets the voice.</summary>
    public string Voice { get; }

    /// <summary>Gets the text synthesized.</summary>
    public string Text { get; }

    /// <summary>Gets the speed asked for, if any.</summary>
    public double? Speed { get; }

    /// <summary>Gets the language asked for, if any.</summary>
    public string? Language { get; }

    /// <summary>Gets the sample rate of the audio sent.</summary>
    public int SampleRate { get; }

    /// <summary>Gets the WebSocket context, if any.</summary>
    public string? ContextId { get; }

    /// <summary>Gets whether the client cancelled the synthesis (<c>context.cancel</c>) before it finished.</summary>
    public bool Cancelled => Volatile.Read(ref _cancelled) != 0;

    /// <summary>Gets the time from the request (or commit) to the first audio chunk written; null while none was.</summary>
    public TimeSpan? FirstAudioAfter => Interlocked.Read(ref _firstAudioTicks) is >= 0 and var ticks ? TimeSpan.FromTicks(ticks) : null;

    internal void MarkCancelled() => Volatile.Write(ref _cancelled, 1);

    internal void MarkFirstAudio(TimeSpan after) => Interlocked.CompareExchange(ref _firstAudioTicks, after.Ticks, -1);
}
