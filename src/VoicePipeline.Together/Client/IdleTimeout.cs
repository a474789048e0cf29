namespace VoicePipeline.Together.Client;

/// <summary>
/// A timeout that progress restarts, on an injected clock: its <see cref="Token"/> is cancelled when the caller's
/// token is, or when <see cref="Timeout"/> passes without a <see cref="Restart"/>.
/// </summary>
internal sealed class IdleTimeout : IDisposable
{
    private readonly CancellationTokenSource _expiry;
    private readonly CancellationTokenSource _linked;

    /// <summary>Starts the timeout now.</summary>
    public IdleTimeout(TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        Timeout = timeout;
        _expiry = new CancellationTokenSource(timeout, timeProvider);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _expiry.Token);
    }

    /// <summary>Gets how long a wait may last.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Gets the token to wait with.</summary>
    public CancellationToken Token => _linked.Token;

    /// <summary>Gets whether the timeout passed (rather than the caller cancelling).</summary>
    public bool Expired => _expiry.IsCancellationRequested;

    /// <summary>Progress: the timeout starts again from now (nothing once it expired).</summary>
    public void Restart()
    {
        if (!_expiry.IsCancellationRequested)
            _expiry.CancelAfter(Timeout);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _linked.Dispose();
        _expiry.Dispose();
    }
}
