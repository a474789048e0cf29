using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using VoicePipeline.Frames;
using VoicePipeline.Processors;

namespace VoicePipeline.Observers;

/// <summary>Fans pushes out to observers, each through its own bounded queue drained by its own loop.</summary>
internal sealed partial class ObserverHub : IAsyncDisposable
{
    private readonly ObserverQueue[] _queues;
    private readonly TimeProvider _timeProvider;
    private readonly long _start;

    public ObserverHub(IEnumerable<IFrameObserver> observers, int capacity, TimeProvider timeProvider, ILogger logger)
    {
        _timeProvider = timeProvider;
        _start = timeProvider.GetTimestamp();
        _queues = observers.Select(o => new ObserverQueue(o, capacity, logger)).ToArray();
    }

    /// <summary>Gets how many events were dropped because an observer's queue was full.</summary>
    public long Dropped => _queues.Sum(q => q.Dropped);

    public void OnFramePushed(FrameProcessor source, FrameProcessor? destination, Frame frame, FrameDirection direction)
    {
        var pushed = new FramePushed(source, destination, frame, direction, _timeProvider.GetElapsedTime(_start));
        foreach (var queue in _queues)
            queue.Post(pushed);
    }

    /// <summary>Lets the observers drain what they have, for at most <paramref name="timeout"/>, then abandons them.</summary>
    public async ValueTask StopAsync(TimeSpan timeout)
    {
        foreach (var queue in _queues)
            queue.Complete();
        try
        {
            await Task.WhenAll(_queues.Select(q => q.Loop)).WaitAsync(timeout, _timeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            foreach (var queue in _queues)
                queue.Abandon();
        }
    }

    public ValueTask DisposeAsync() => StopAsync(TimeSpan.Zero);

    private sealed partial class ObserverQueue
    {
        private readonly IFrameObserver _observer;
        private readonly Channel<FramePushed> _channel;
        private readonly ILogger _logger;
        private readonly CancellationTokenSource _abandon = new();
        private long _dropped;

        public ObserverQueue(IFrameObserver observer, int capacity, ILogger logger)
        {
            _observer = observer;
            _logger = logger;
            _channel = Channel.CreateBounded<FramePushed>(
                new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true },
                _ => Interlocked.Increment(ref _dropped));
            Loop = Task.Run(RunAsync);
        }

        public Task Loop { get; }

        public long Dropped => Interlocked.Read(ref _dropped);

        public void Post(FramePushed pushed) => _channel.Writer.TryWrite(pushed);

        public void Complete() => _channel.Writer.TryComplete();

        public void Abandon() => _abandon.Cancel();

        private async Task RunAsync()
        {
            try
            {
                await foreach (var pushed in _channel.Reader.ReadAllAsync(_abandon.Token).ConfigureAwait(false))
                {
                    try
                    {
                        await _observer.OnFramePushedAsync(pushed, _abandon.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (_abandon.IsCancellationRequested)
                    {
                        return;
                    }
#pragma warning disable CA1031 // An observer's failure must not affect the pipeline.
                    catch (Exception exception)
#pragma warning restore CA1031
                    {
                        ObserverFailed(_logger, exception, _observer.GetType().Name);
                    }
                }
            }
            catch (OperationCanceledException) when (_abandon.IsCancellationRequested)
            {
            }
        }

        [LoggerMessage(EventId = 200, Level = LogLevel.Warning, Message = "Observer {Observer} failed")]
        private static partial void ObserverFailed(ILogger logger, Exception exception, string observer);
    }
}
