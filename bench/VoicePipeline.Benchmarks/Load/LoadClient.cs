using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json;

namespace VoicePipeline.Benchmarks.Load;

/// <summary>
/// The load clients, in their own process (the hidden verb <c>load-client</c>) so their CPU is not the server's: many
/// WebSocket sessions, each streaming the recording at real time in 20 ms binary messages from its own start time
/// (passed to the server as <c>?t0=</c>, a monotonic timestamp both processes share) and reading everything back.
/// One thread paces every session's sends. Commands come on stdin, one per line, and each is answered on stdout:
/// <c>open N URL</c>, <c>stats</c>, <c>close</c>, <c>churn CYCLES CONCURRENCY SECONDS URL</c>; end of input exits.
/// </summary>
internal static class LoadClient
{
    public const string Verb = "load-client";

    public static async Task<int> RunAsync(string[] args)
    {
        var audio = LoadAudio.FromFiles(LoadArgs.Required(Verb, args, "--audio"), LoadArgs.Required(Verb, args, "--stops"));
        using var fleet = new Fleet(audio);
        await HelperProcess.ServeCommandsAsync(async parts => parts[0] switch
        {
            "open" => await fleet.OpenAsync(int.Parse(parts[1], CultureInfo.InvariantCulture), new Uri(parts[2])).ConfigureAwait(false),
            "stats" => fleet.Stats(),
            "close" => await fleet.CloseAllAsync().ConfigureAwait(false),
            "churn" => await fleet.ChurnAsync(int.Parse(parts[1], CultureInfo.InvariantCulture), int.Parse(parts[2], CultureInfo.InvariantCulture),
                double.Parse(parts[3], CultureInfo.InvariantCulture), new Uri(parts[4])).ConfigureAwait(false),
            _ => HelperProcess.UnknownCommand(parts[0]),
        }).ConfigureAwait(false);
        return 0;
    }

    /// <summary>Every open session, paced by one thread.</summary>
    private sealed class Fleet : IDisposable
    {
        private static readonly long s_ticksPerMessage = Stopwatch.Frequency / 50;
        private readonly LoadAudio _audio;
        private readonly Thread _pacer;
        private readonly Lock _gate = new();
        private readonly LagHistogram _late = new();
        private readonly LagHistogram _eventLag = new();
        private volatile Session[] _sessions = [];
        private volatile bool _stopped;
        private long _finals;
        private long _unmatched;
        private long _closedEarly;
        private long _failed;
        private long _received;

        public Fleet(LoadAudio audio)
        {
            _audio = audio;
            _pacer = new Thread(Pace) { IsBackground = true, Name = "load pacer", Priority = ThreadPriority.AboveNormal };
            _pacer.Start();
        }

        public async Task<string> OpenAsync(int count, Uri url)
        {
            int ok = 0, refused = 0, failed = 0;
            using var concurrency = new SemaphoreSlim(10);
            await Task.WhenAll(Enumerable.Range(0, count).Select(async _ =>
            {
                await concurrency.WaitAsync().ConfigureAwait(false);
                try
                {
                    var outcome = await ConnectAsync(url, maxMessages: long.MaxValue).ConfigureAwait(false);
                    if (outcome.Session is { } session)
                    {
                        Add(session);
                        Interlocked.Increment(ref ok);
                    }
                    else if (outcome.Refused)
                        Interlocked.Increment(ref refused);
                    else
                        Interlocked.Increment(ref failed);
                }
                finally
                {
                    concurrency.Release();
                }
            })).ConfigureAwait(false);
            return Json(new() { ["opened"] = ok, ["refused"] = refused, ["failed"] = failed, ["sessions"] = _sessions.Length });
        }

        public string Stats()
        {
            var sessions = _sessions;
            var figures = new Dictionary<string, double>
            {
                ["sessions"] = sessions.Length,
                ["sent"] = sessions.Sum(s => s.Sent),
                ["late_p99_ms"] = _late.Percentile(99),
                ["event_lag_p99_ms"] = _eventLag.Percentile(99),
                ["event_lag_p50_ms"] = _eventLag.Percentile(50),
                ["event_lags"] = _eventLag.Count,
                ["finals"] = Interlocked.Read(ref _finals),
                ["unmatched_finals"] = Interlocked.Exchange(ref _unmatched, 0),
                ["closed_early"] = Interlocked.Read(ref _closedEarly),
                ["failed"] = Interlocked.Read(ref _failed),
                ["received_bytes"] = Interlocked.Read(ref _received),
                ["cpu_ms"] = ProcessMetrics.Cpu().TotalMilliseconds,
            };
            _late.Reset();
            _eventLag.Reset();
            return Json(figures);
        }

        public async Task<string> CloseAllAsync()
        {
            Session[] sessions;
            lock (_gate)
            {
                sessions = _sessions;
                _sessions = [];
            }
            await Task.WhenAll(sessions.Select(s => s.CloseAsync())).ConfigureAwait(false);
            var figures = new Dictionary<string, double>
            {
                ["closed"] = sessions.Length,
                ["sent"] = sessions.Sum(s => s.Sent),
                ["closed_early"] = Interlocked.Exchange(ref _closedEarly, 0),
                ["failed"] = Interlocked.Exchange(ref _failed, 0),
            };
            Interlocked.Exchange(ref _finals, 0);
            Interlocked.Exchange(ref _received, 0);
            return Json(figures);
        }

        /// <summary>Connect, stream <paramref name="seconds"/>, close: <paramref name="cycles"/> times, <paramref name="concurrency"/> at a time.</summary>
        public async Task<string> ChurnAsync(int cycles, int concurrency, double seconds, Uri url)
        {
            var next = 0;
            long ok = 0, failed = 0, sent = 0;
            var messages = (long)Math.Round(seconds * 50);
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
            {
                while (Interlocked.Increment(ref next) <= cycles)
                {
                    var outcome = await ConnectAsync(url, messages).ConfigureAwait(false);
                    if (outcome.Session is not { } session)
                    {
                        Interlocked.Increment(ref failed);
                        continue;
                    }
                    Add(session);
                    await session.Streamed.Task.ConfigureAwait(false);
                    lock (_gate)
                        _sessions = _sessions.Where(s => s != session).ToArray();
                    var clean = await session.CloseAsync().ConfigureAwait(false);
                    Interlocked.Add(ref sent, session.Sent);
                    Interlocked.Increment(ref clean ? ref ok : ref failed);
                }
            })).ConfigureAwait(false);
            return Json(new() { ["cycles"] = cycles, ["ok"] = ok, ["failed"] = failed, ["sent"] = sent, ["closed_early"] = Interlocked.Exchange(ref _closedEarly, 0) });
        }

        public void Dispose()
        {
            _stopped = true;
            foreach (var session in _sessions)
                session.Socket.Abort();
        }

        private void Add(Session session)
        {
            lock (_gate)
                _sessions = [.. _sessions, session];
        }

        private async Task<(Session? Session, bool Refused)> ConnectAsync(Uri url, long maxMessages)
        {
            var socket = new ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            socket.Options.KeepAliveInterval = TimeSpan.Zero;
            // The audio starts a little after the handshake, at a random phase, so sessions do not all send at once.
            var t0 = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 4 + Random.Shared.NextInt64(s_ticksPerMessage);
            var separator = url.Query.Length > 0 ? "&" : "?";
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await socket.ConnectAsync(new Uri(url + separator + "t0=" + t0.ToString(CultureInfo.InvariantCulture)), timeout.Token).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or HttpRequestException)
            {
                var refused = socket.HttpStatusCode == HttpStatusCode.ServiceUnavailable;
                socket.Dispose();
                return (null, refused);
            }
            // Each session starts at one of the recording's phases, so turns are spread over time as real callers'
            // are, instead of every session ending an utterance at the same moment.
            var session = new Session(this, socket, t0, maxMessages, Random.Shared.Next(LoadAudio.Phases));
            session.Receiving = Task.Run(session.ReceiveAsync);
            return (session, false);
        }

        private void Pace()
        {
            while (!_stopped)
            {
                var now = Stopwatch.GetTimestamp();
                foreach (var session in _sessions)
                    session.Pump(now);
                Thread.Sleep(1);
            }
        }

        private static string Json(Dictionary<string, double> figures) => JsonSerializer.Serialize(figures);

        private sealed class Session(Fleet fleet, ClientWebSocket socket, long t0, long maxMessages, int phase)
        {
            private readonly long _firstMessage = fleet._audio.FirstMessage(phase);
            private long _next;
            private volatile bool _sending;
            private volatile bool _closing;

            public ClientWebSocket Socket => socket;

            public long Sent => Interlocked.Read(ref _next);

            public Task Receiving { get; set; } = Task.CompletedTask;

            public TaskCompletionSource Streamed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

            /// <summary>Sends the next message if it is due and the last send finished (a late one goes out at the next pump).</summary>
            public void Pump(long now)
            {
                if (_sending || _closing)
                    return;
                if (_next >= maxMessages)
                {
                    Streamed.TrySetResult();
                    return;
                }
                var due = t0 + (_next + 1) * s_ticksPerMessage;
                if (now < due)
                    return;
                fleet._late.Record((now - due) * 1000.0 / Stopwatch.Frequency);
                var loop = fleet._audio.Loop;
                var offset = (int)((_firstMessage + _next) * LoadAudio.MessageBytes % loop.Length);
                Interlocked.Increment(ref _next);
                ValueTask send;
                try
                {
                    send = socket.SendAsync(loop.AsMemory(offset, LoadAudio.MessageBytes), WebSocketMessageType.Binary, true, CancellationToken.None);
                }
                catch (Exception exception) when (exception is WebSocketException or ObjectDisposedException or InvalidOperationException)
                {
                    Fail();
                    return;
                }
                if (!send.IsCompletedSuccessfully)
                {
                    _sending = true;
                    _ = AwaitSendAsync(send);
                }
            }

            public async Task ReceiveAsync()
            {
                var buffer = new byte[16 * 1024];
                try
                {
                    while (true)
                    {
                        var result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).ConfigureAwait(false);
                        if (result.MessageType == WebSocketMessageType.Close)
                        {
                            if (!_closing)
                            {
                                Interlocked.Increment(ref fleet._closedEarly);
                                _closing = true;
                                await Console.Error.WriteLineAsync($"load-client: the server closed a session ({socket.CloseStatus} {socket.CloseStatusDescription})").ConfigureAwait(false);
                                Streamed.TrySetResult();
                            }
                            return;
                        }
                        Interlocked.Add(ref fleet._received, result.Count);
                        if (result.MessageType == WebSocketMessageType.Text && result.EndOfMessage)
                            OnEvent(buffer.AsSpan(0, result.Count));
                    }
                }
                catch (Exception exception) when (exception is WebSocketException or ObjectDisposedException or OperationCanceledException)
                {
                    if (!_closing)
                        Fail();
                }
            }

            /// <summary>Closes properly: no more audio, a close frame, the server's answer (bounded; then the socket is aborted).</summary>
            public async Task<bool> CloseAsync()
            {
                _closing = true;
                while (_sending)
                    await Task.Delay(5).ConfigureAwait(false);
                var clean = true;
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    if (socket.State == WebSocketState.Open)
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token).ConfigureAwait(false);
                    await Receiving.WaitAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or TimeoutException or ObjectDisposedException)
                {
                    clean = false;
                }
                socket.Abort();
                socket.Dispose();
                return clean;
            }

            private void OnEvent(ReadOnlySpan<byte> message)
            {
                if (message.IndexOf("\"type\":\"transcript\""u8) < 0 || message.IndexOf("\"final\":true"u8) < 0)
                    return;
                Interlocked.Increment(ref fleet._finals);
                var audioSeconds = (double)(Stopwatch.GetTimestamp() - t0) / Stopwatch.Frequency;
                var stop = fleet._audio.LatestStop(phase, audioSeconds);
                // The table's next stop only just ahead: this session's VAD decided a little earlier than the table's
                // (batched inference differs in the last bits), so which stop the final belongs to is unknown.
                if (fleet._audio.LatestStop(phase, audioSeconds + 0.3) != stop)
                    Interlocked.Increment(ref fleet._unmatched);
                else if (stop is { } matched)
                    fleet._eventLag.Record((audioSeconds - matched) * 1000);
            }

            private async Task AwaitSendAsync(ValueTask send)
            {
                try
                {
                    await send.ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is WebSocketException or ObjectDisposedException or OperationCanceledException)
                {
                    Fail();
                }
                finally
                {
                    _sending = false;
                }
            }

            private void Fail()
            {
                if (_closing)
                    return;
                _closing = true;
                Interlocked.Increment(ref fleet._failed);
                Streamed.TrySetResult();
            }
        }
    }
}
