using Microsoft.AspNetCore.Http;

namespace VoicePipeline.Transports.WebSockets;

/// <summary>
/// What the voice endpoints of an app carry and the limits that make them safe to expose: origins, session count,
/// input rate, message size, timeouts and the drain on shutdown. Bound from DI by
/// <c>services.AddVoicePipelineServer(...)</c>; <see cref="VoiceWebSocketServer"/> takes them in its
/// <see cref="WebSocketServerOptions"/>.
/// </summary>
public class VoicePipelineServerOptions
{
    /// <summary>Gets or sets the rate of the PCM s16le mono audio clients send (the browser page resamples to it).</summary>
    public int InputSampleRate { get; set; } = 16_000;

    /// <summary>Gets or sets the rate of the PCM s16le mono audio sent to clients (pipeline audio is resampled to it).</summary>
    public int OutputSampleRate { get; set; } = 24_000;

    /// <summary>
    /// Gets the origins (<c>https://app.example.com</c>) whose pages may open a socket besides the server's own origin;
    /// <c>*</c> allows every origin. Requests without an <c>Origin</c> header (Twilio, command-line and server-side
    /// clients) are not browser requests and are always accepted.
    /// </summary>
    public IList<string> AllowedOrigins { get; } = [];

    /// <summary>
    /// Gets or sets a hook that decides whether a connection may open a session (after the origin check); returning
    /// false refuses it with 403. ASP.NET Core's own authorization (<c>RequireAuthorization()</c>) applies as well.
    /// </summary>
    public Func<HttpContext, ValueTask<bool>>? Authorize { get; set; }

    /// <summary>Gets or sets how many sessions run at once; more are refused with 503 and <c>Retry-After</c>.</summary>
    public int MaxSessions { get; set; } = 64;

    /// <summary>
    /// Gets or sets the scheduling lag past which new sessions are refused with 503 (and <c>/readyz</c> fails) even below
    /// <see cref="MaxSessions"/>: how late the thread pool runs a probe queued every 250 ms, the largest of the last
    /// second. A server past its capacity lags before it runs out of sessions, and every live session then falls behind;
    /// refusing newcomers keeps the live ones whole. Null (the default) turns the check off.
    /// </summary>
    public TimeSpan? MaxSchedulingLag { get; set; }

    /// <summary>Gets or sets the <c>Retry-After</c> a refused client is given while the server is full.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the largest message a client may send (bytes); a larger one closes the socket with 1009.</summary>
    public int MaxMessageBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Gets or sets how much faster than real time a client may send audio, sustained over <see cref="InputRateWindow"/>;
    /// a faster one is closed with 1008.
    /// </summary>
    public double MaxInputRate { get; set; } = 1.5;

    /// <summary>
    /// Gets or sets the window over which the input rate is measured: a client may be ahead of real time by at most
    /// <see cref="MaxInputRate"/> times this much audio at any moment, which bounds the audio a session ever queues.
    /// </summary>
    public TimeSpan InputRateWindow { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Gets or sets how long one send to a client may take; a client that stops reading is dropped after it.</summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how long a client may send nothing before its session is closed (1000, "idle timeout").</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Gets or sets the longest a session may last (then closed with 1000, "maximum session length").</summary>
    public TimeSpan MaxSessionLength { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Gets or sets how long live sessions may go on after a shutdown began (SIGTERM, <c>StopAsync</c>); those still
    /// running then end with an <c>EndFrame</c> and a 1001 close.
    /// </summary>
    public TimeSpan DrainGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how long a session ended by the drain gets to finish its <c>EndFrame</c> before it is cancelled.</summary>
    public TimeSpan DrainEndTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Gets or sets how each session's output plays audio out: by default in real time in 20 ms chunks from a 1 s
    /// buffer, so an interruption stops what the client would hear next; <c>RealTime = false</c> sends as fast as the
    /// client reads (for measuring the transport alone).
    /// </summary>
    public OutputTransportOptions Output { get; set; } = new();

    /// <summary>Gets or sets the clock of every timeout and of the rate limit.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Copies these settings onto <paramref name="target"/>.</summary>
    /// <param name="target">The options to overwrite.</param>
    public void CopyTo(VoicePipelineServerOptions target)
    {
        ArgumentNullException.ThrowIfNull(target);
        target.InputSampleRate = InputSampleRate;
        target.OutputSampleRate = OutputSampleRate;
        target.AllowedOrigins.Clear();
        foreach (var origin in AllowedOrigins)
            target.AllowedOrigins.Add(origin);
        target.Authorize = Authorize;
        target.MaxSessions = MaxSessions;
        target.MaxSchedulingLag = MaxSchedulingLag;
        target.RetryAfter = RetryAfter;
        target.MaxMessageBytes = MaxMessageBytes;
        target.MaxInputRate = MaxInputRate;
        target.InputRateWindow = InputRateWindow;
        target.SendTimeout = SendTimeout;
        target.IdleTimeout = IdleTimeout;
        target.MaxSessionLength = MaxSessionLength;
        target.DrainGracePeriod = DrainGracePeriod;
        target.DrainEndTimeout = DrainEndTimeout;
        target.TimeProvider = TimeProvider;
        target.Output = Output.Clone();
    }

    /// <summary>Throws when a setting is out of range.</summary>
    /// <returns>These options.</returns>
    public VoicePipelineServerOptions Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(InputSampleRate, 8000);
        ArgumentOutOfRangeException.ThrowIfLessThan(OutputSampleRate, 8000);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSessions, 1);
        if (MaxSchedulingLag is { } lag)
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lag, TimeSpan.Zero, nameof(MaxSchedulingLag));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxMessageBytes, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxInputRate, 1.0);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(InputRateWindow, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(SendTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(IdleTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(MaxSessionLength, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(DrainGracePeriod, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(TimeProvider);
        return this;
    }
}
