namespace VoicePipeline.Transports.WebSockets;

/// <summary>
/// Holds a client's audio to at most <c>maxRate</c> times real time: a bucket of <c>maxRate × window</c> seconds of audio
/// that refills at <c>maxRate</c> seconds per second and that each message drains by the audio it carries. A client
/// sending in real time never empties it; one sending faster empties it within a few seconds. The bucket is also the
/// most audio a client can ever be ahead of real time, which bounds what a session queues.
/// </summary>
public sealed class InputRateLimiter
{
    private readonly TimeProvider _timeProvider;
    private readonly double _bytesPerSecond;
    private readonly double _maxRate;
    private readonly double _capacity;
    private double _credit;
    private long _last;

    /// <summary>Creates a limiter for PCM s16le mono at <paramref name="sampleRate"/>, starting full.</summary>
    /// <param name="sampleRate">The rate of the client's audio.</param>
    /// <param name="maxRate">How many times real time the client may send, sustained.</param>
    /// <param name="window">How far ahead of real time (in <paramref name="maxRate"/> × this much audio) a client may get.</param>
    /// <param name="timeProvider">The clock.</param>
    public InputRateLimiter(int sampleRate, double maxRate, TimeSpan window, TimeProvider timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleRate, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRate, 1.0);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _timeProvider = timeProvider;
        _bytesPerSecond = sampleRate * 2.0;
        _maxRate = maxRate;
        _capacity = maxRate * window.TotalSeconds;
        _credit = _capacity;
        _last = timeProvider.GetTimestamp();
    }

    /// <summary>Gets the seconds of audio the client may still send at once.</summary>
    public double CreditSeconds => _credit;

    /// <summary>Takes <paramref name="bytes"/> of audio; returns false when the client is sending too fast.</summary>
    /// <param name="bytes">The message's size.</param>
    /// <returns>Whether the client is within its rate.</returns>
    public bool TryTake(int bytes) => TryTakeSeconds(bytes / _bytesPerSecond);

    /// <summary>Takes <paramref name="seconds"/> of audio, whatever its wire format; returns false when the client is sending too fast.</summary>
    /// <param name="seconds">The audio's duration.</param>
    /// <returns>Whether the client is within its rate.</returns>
    public bool TryTakeSeconds(double seconds)
    {
        var now = _timeProvider.GetTimestamp();
        var elapsed = _timeProvider.GetElapsedTime(_last, now).TotalSeconds;
        _last = now;
        _credit = Math.Min(_capacity, _credit + elapsed * _maxRate) - seconds;
        return _credit >= 0;
    }
}
