using Microsoft.Extensions.Time.Testing;

namespace VoicePipeline.Together.Tests.Client;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that tells when a timer with a given due time was created, so a test advances the
/// clock only once the code under test is waiting on it (no sleeps, no polling).
/// </summary>
internal sealed class GatedTimeProvider : FakeTimeProvider
{
    private readonly Lock _gate = new();
    private readonly List<(TimeSpan Due, TaskCompletionSource Created)> _waiting = [];

    /// <summary>Completes once a timer due after <paramref name="due"/> exists (created before or after this call).</summary>
    public Task TimerCreated(TimeSpan due)
    {
        lock (_gate)
        {
            if (_created.Contains(due))
                return Task.CompletedTask;
            var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiting.Add((due, created));
            return created.Task;
        }
    }

    private readonly HashSet<TimeSpan> _created = [];

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        lock (_gate)
        {
            _created.Add(dueTime);
            foreach (var waiter in _waiting.Where(w => w.Due == dueTime).ToList())
            {
                waiter.Created.TrySetResult();
                _waiting.Remove(waiter);
            }
        }
        return timer;
    }
}
