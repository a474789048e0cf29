using System.Globalization;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;

namespace VoicePipeline.Transports.WebSockets;

/// <summary>
/// One session's limits (see <see cref="VoicePipelineServerOptions"/>): the input rate and message size, checked as
/// messages arrive; the idle timeout, the maximum session length and the send timeout, on timers. A breach logs a
/// line and ends the session through <c>onBreach</c> with its close code.
/// </summary>
/// <remarks>
/// A message and a send only write a timestamp: re-arming a timer for each of them (about a hundred a second per
/// session) took the runtime's timer-queue lock as often. Instead the idle and send timers, when they fire, re-arm
/// themselves for the time still left.
/// </remarks>
internal sealed partial class SessionLimits : IDisposable
{
    private readonly VoicePipelineServerOptions _options;
    private readonly ILogger _logger;
    private readonly string _id;
    private readonly Action<WebSocketCloseStatus, string> _onBreach;
    private readonly Action _onSendTimeout;
    private readonly InputRateLimiter _rate;
    private readonly ITimer _idle;
    private readonly ITimer _length;
    private readonly ITimer _send;
    private long _lastReceivedAt;
    private long _sendStartedAt;
    private int _messageBytes;
    private bool _breached;

    public SessionLimits(VoicePipelineServerOptions options, string id, ILogger logger, Action<WebSocketCloseStatus, string> onBreach, Action onSendTimeout)
    {
        _options = options;
        _id = id;
        _logger = logger;
        _onBreach = onBreach;
        _onSendTimeout = onSendTimeout;
        _rate = new InputRateLimiter(options.InputSampleRate, options.MaxInputRate, options.InputRateWindow, options.TimeProvider);
        var time = options.TimeProvider;
        _lastReceivedAt = time.GetTimestamp();
        _idle = time.CreateTimer(static s => ((SessionLimits)s!).OnIdleTimer(), this, options.IdleTimeout, Timeout.InfiniteTimeSpan);
        _length = time.CreateTimer(static s => ((SessionLimits)s!).OnLengthReached(), this, options.MaxSessionLength, Timeout.InfiniteTimeSpan);
        _send = time.CreateTimer(static s => ((SessionLimits)s!).OnSendTimer(), this, options.SendTimeout, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Checks a received chunk (a whole message or part of one); false when it broke a limit (the session is closing: drop it).</summary>
    public bool OnReceived(ValueWebSocketReceiveResult received) => OnReceived(received.Count, received.MessageType, received.EndOfMessage);

    private bool OnReceived(int count, WebSocketMessageType type, bool endOfMessage)
    {
        if (_breached)
            return false; // closing: what the client still sends is dropped
        Volatile.Write(ref _lastReceivedAt, _options.TimeProvider.GetTimestamp());
        _messageBytes += count;
        if (_messageBytes > _options.MaxMessageBytes)
        {
            _breached = true;
            Log.MessageTooBig(_logger, _id, _options.MaxMessageBytes);
            _onBreach(WebSocketCloseStatus.MessageTooBig, string.Create(CultureInfo.InvariantCulture, $"message larger than {_options.MaxMessageBytes} bytes"));
            return false;
        }
        if (endOfMessage)
            _messageBytes = 0;
        return true;
    }

    /// <summary>
    /// Counts audio the client sent, as the wire's serializer decoded it (PCM of any rate, raw or carried in text
    /// messages such as Twilio's), against the input rate; false once the client is too fast (the session is closing).
    /// </summary>
    public bool OnAudio(double seconds)
    {
        if (_breached)
            return false;
        if (_rate.TryTakeSeconds(seconds))
            return true;
        _breached = true;
        Log.TooFast(_logger, _id, _options.MaxInputRate);
        _onBreach(WebSocketCloseStatus.PolicyViolation, string.Create(CultureInfo.InvariantCulture, $"audio sent faster than {_options.MaxInputRate}x real time"));
        return false;
    }

    /// <summary>Starts the send timeout; call <see cref="SendEnded"/> when the send returns.</summary>
    public void SendStarted() => Volatile.Write(ref _sendStartedAt, _options.TimeProvider.GetTimestamp());

    /// <summary>Disarms the send timeout.</summary>
    public void SendEnded() => Volatile.Write(ref _sendStartedAt, 0);

    public void Dispose()
    {
        _idle.Dispose();
        _length.Dispose();
        _send.Dispose();
    }

    private void OnIdleTimer()
    {
        var idle = _options.TimeProvider.GetElapsedTime(Volatile.Read(ref _lastReceivedAt));
        if (idle < _options.IdleTimeout)
        {
            _idle.Change(_options.IdleTimeout - idle, Timeout.InfiniteTimeSpan);
            return;
        }
        Log.Idle(_logger, _id, _options.IdleTimeout.TotalSeconds);
        _onBreach(WebSocketCloseStatus.NormalClosure, "idle timeout");
    }

    private void OnLengthReached()
    {
        Log.TooLong(_logger, _id, _options.MaxSessionLength.TotalSeconds);
        _onBreach(WebSocketCloseStatus.NormalClosure, "maximum session length");
    }

    private void OnSendTimer()
    {
        var started = Volatile.Read(ref _sendStartedAt);
        var elapsed = started == 0 ? TimeSpan.Zero : _options.TimeProvider.GetElapsedTime(started);
        if (elapsed < _options.SendTimeout)
        {
            _send.Change(_options.SendTimeout - elapsed, Timeout.InfiniteTimeSpan); // no send in flight, or not for long
            return;
        }
        Log.SendTimeout(_logger, _id, _options.SendTimeout.TotalSeconds);
        _onSendTimeout();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 920, Level = LogLevel.Warning, Message = "WebSocket session {Id}: a message exceeded {MaxBytes} bytes; closing with 1009")]
        public static partial void MessageTooBig(ILogger logger, string id, int maxBytes);

        [LoggerMessage(EventId = 921, Level = LogLevel.Warning, Message = "WebSocket session {Id}: audio arrives faster than {MaxRate}x real time; closing with 1008")]
        public static partial void TooFast(ILogger logger, string id, double maxRate);

        [LoggerMessage(EventId = 922, Level = LogLevel.Information, Message = "WebSocket session {Id}: nothing received for {Seconds} s; closing with 1000 (idle timeout)")]
        public static partial void Idle(ILogger logger, string id, double seconds);

        [LoggerMessage(EventId = 923, Level = LogLevel.Information, Message = "WebSocket session {Id}: reached the maximum session length of {Seconds} s; closing with 1000")]
        public static partial void TooLong(ILogger logger, string id, double seconds);

        [LoggerMessage(EventId = 924, Level = LogLevel.Warning, Message = "WebSocket session {Id}: a send took longer than {Seconds} s (the client stopped reading); aborting the connection")]
        public static partial void SendTimeout(ILogger logger, string id, double seconds);
    }
}
