using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VoicePipeline.Together.Emulator.Recognition;

namespace VoicePipeline.Together.Emulator;

/// <summary>Settings of a <see cref="TogetherEmulator"/>. A development and test tool, not a production server.</summary>
public sealed class TogetherEmulatorOptions
{
    /// <summary>
    /// Gets or sets the address to listen on. Loopback by default; an address outside 127.0.0.0/8 and ::1 (a LAN address,
    /// 0.0.0.0, a host name other than <c>localhost</c>) is refused unless <see cref="ApiKey"/> is set, as the emulator
    /// otherwise accepts any key.
    /// </summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Gets or sets the port; 0 picks a free one.</summary>
    public int Port { get; set; }

    /// <summary>Gets or sets the API key clients must present; null accepts any non-empty key.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Gets or sets the clock the emulator uses.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Gets or sets the speech recognizer behind transcription endpoints. Null selects the default offline engine.
    /// </summary>
    public IStreamingRecognizerFactory? Recognizer { get; set; }

    /// <summary>
    /// Gets or sets the speech engine behind the text-to-speech endpoints. Null selects the default offline engine
    /// (<see cref="Synthesis.EspeakSpeechSynthesizer"/>).
    /// </summary>
    public Synthesis.ISpeechSynthesizer? SpeechSynthesizer { get; set; }

    /// <summary>Gets the faults the realtime transcription endpoint injects.</summary>
    public Realtime.RealtimeFaults RealtimeFaults { get; } = new();

    /// <summary>Gets the faults the batch transcription endpoints inject.</summary>
    public Transcriptions.TranscriptionFaults TranscriptionFaults { get; } = new();

    /// <summary>Gets the faults and pacing the speech endpoints (REST, SSE, WebSocket) inject.</summary>
    public Speech.SpeechFaults SpeechFaults { get; } = new();

    /// <summary>Gets or sets how many seconds of an upload are recognized (the rest is accepted and ignored).</summary>
    public int MaxRecognizedSeconds { get; set; } = 900;

    /// <summary>
    /// Gets or sets whether batch transcription fetches audio given as a URL in the <c>file</c> field (off by default: an
    /// emulator reachable by others would otherwise fetch any address for them). Only <c>http</c> and <c>https</c> URLs are
    /// fetched, at most <see cref="MaxFetchedFileBytes"/> of them.
    /// </summary>
    public bool FetchFileUrls { get; set; }

    /// <summary>Gets or sets the most bytes fetched from a <c>file</c> URL (100 MiB by default); a longer file is refused with 413.</summary>
    public long MaxFetchedFileBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>
    /// Gets or sets the largest request body accepted (520 MiB by default: Together's 500 MB upload and its form); a larger
    /// one is answered 413. JSON endpoints (speech, chat) take at most <see cref="MaxJsonBodyBytes"/>.
    /// </summary>
    public long MaxRequestBodyBytes { get; set; } = 520L * 1024 * 1024;

    /// <summary>Gets or sets the largest JSON request body (speech, chat completions; 4 MiB by default); a larger one is answered 413.</summary>
    public long MaxJsonBodyBytes { get; set; } = 4L * 1024 * 1024;

    /// <summary>
    /// Gets or sets the largest WebSocket message a client may send (realtime and speech sockets; 1 MiB by default, a
    /// thousand times a realtime append): a larger one closes the socket with 1009 (message too big).
    /// </summary>
    public int MaxMessageBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Gets or sets whether each realtime connection's events and audio are kept (<see cref="Realtime.RealtimeSessionLog.Events"/>,
    /// <see cref="Realtime.RealtimeSessionLog.Audio"/>) for tests to assert on. Off by default: a long or busy run (a load
    /// test, a soak) would otherwise keep every session's audio in memory. Connections are listed either way.
    /// </summary>
    public bool RecordRealtimeSessions { get; set; }

    /// <summary>Gets or sets the most audio kept per recorded realtime connection, in bytes (what comes later is counted, not kept).</summary>
    public int MaxRecordedAudioBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>
    /// Gets or sets how many entries each request log keeps (<see cref="TogetherEmulator.RealtimeSessions"/>,
    /// <see cref="TogetherEmulator.TranscriptionRequests"/>, <see cref="TogetherEmulator.SpeechRequests"/>): the most
    /// recent ones, so the logs stay bounded however long the emulator runs.
    /// </summary>
    public int MaxLoggedRequests { get; set; } = 1000;

    /// <summary>Gets or sets the logger factory.</summary>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;
}
