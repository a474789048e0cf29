using System.Net;
using System.Net.Sockets;
using System.Text;
using FluentAssertions;
using Microsoft.Extensions.AI;
using VoicePipeline.Frames;
using VoicePipeline.Testing;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Emulator;
using VoicePipeline.Together.Realtime;
using VoicePipeline.Together.Speech;
using VoicePipeline.Together.Transcriptions;
using Xunit;

namespace VoicePipeline.Together.Tests.Client;

/// <summary>
/// Every wait on a server is bounded, on the injected clock: a capped <c>Retry-After</c>, requests to a server that
/// never answers, WebSocket handshakes that never complete, and a synthesis the server stops sending part way.
/// </summary>
public sealed class ClientTimeoutTests
{
    private const string Key = "sk-timeouts-31c9";
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(null, 30)]  // the default cap
    [InlineData(5, 5)]
    public async Task A_retry_after_of_a_day_is_capped(int? capSeconds, int expectedSeconds)
    {
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { ApiKey = Key });
        emulator.Options.SpeechFaults.RetryAfterSeconds = 86_400;
        emulator.Options.SpeechFaults.FailNext(429);
        var time = new GatedTimeProvider();
        var options = new TogetherClientOptions { ApiKey = Key, BaseUrl = emulator.BaseUrl, TimeProvider = time };
        if (capSeconds is { } cap)
            options.MaxRetryAfter = TimeSpan.FromSeconds(cap);
        using var client = new TogetherSpeechClient(options);

        var speaking = client.SynthesizeAsync(new SpeechRequest { Input = "Soon.", Model = TogetherTtsOptions.DefaultModel, Voice = "af_heart" });
        await time.TimerCreated(TimeSpan.FromSeconds(expectedSeconds)).WaitAsync(s_wait);
        time.Advance(TimeSpan.FromSeconds(expectedSeconds));

        var wav = await speaking.WaitAsync(s_wait);
        Encoding.ASCII.GetString(wav, 0, 4).Should().Be("RIFF", "the retry came after the cap, not after a day");
    }

    [Fact]
    public async Task A_refused_websocket_handshakes_retry_after_is_capped_too()
    {
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { ApiKey = Key });
        emulator.Options.SpeechFaults.RetryAfterSeconds = 86_400;
        emulator.Options.SpeechFaults.FailNext(503);
        var time = new GatedTimeProvider();
        using var client = new TogetherSpeechClient(new TogetherClientOptions { ApiKey = Key, BaseUrl = emulator.BaseUrl, TimeProvider = time, MaxRetryAfter = TimeSpan.FromSeconds(3) });

        var connecting = client.ConnectAsync(TogetherTtsOptions.DefaultModel, "af_heart");
        await time.TimerCreated(TimeSpan.FromSeconds(3)).WaitAsync(s_wait);
        time.Advance(TimeSpan.FromSeconds(3));

        await using var connection = await connecting.WaitAsync(s_wait);
        connection.IsOpen.Should().BeTrue();
    }

    public static TheoryData<string> Requests => ["voices", "synthesis", "transcription"];

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task A_request_the_server_never_answers_times_out(string request)
    {
        await using var server = new SilentServer();
        var time = new GatedTimeProvider();
        var options = new TogetherClientOptions { ApiKey = Key, BaseUrl = server.BaseUrl, TimeProvider = time, MaxRetries = 0, RequestTimeout = TimeSpan.FromSeconds(7) };
        using var speech = new TogetherSpeechClient(options);
        using var transcription = new TogetherTranscriptionClient(options);

        Task call = request switch
        {
            "voices" => speech.GetVoicesAsync(),
            "synthesis" => speech.SynthesizeAsync(new SpeechRequest { Input = "Hello?", Model = TogetherTtsOptions.DefaultModel, Voice = "af_heart" }),
            _ => transcription.TranscribeAsync("http://127.0.0.1:9/speech.wav"),
        };
        await time.TimerCreated(TimeSpan.FromSeconds(7)).WaitAsync(s_wait);
        await server.Connected.WaitAsync(s_wait);
        time.Advance(TimeSpan.FromSeconds(6.9));
        call.IsCompleted.Should().BeFalse("7 s have not passed on the injected clock");
        time.Advance(TimeSpan.FromSeconds(0.1));

        var error = (await FluentActions.Awaiting(() => call.WaitAsync(s_wait)).Should().ThrowAsync<TogetherApiException>()).Which;
        error.ErrorCode.Should().Be("timeout");
        error.Category.Should().Be(ErrorCategory.Server, "a silent server is transient: the request is retried when retries are on");
        error.Message.Should().Contain("7 s");
    }

    [Fact]
    public async Task A_chat_request_the_server_never_answers_fails_after_the_request_timeout()
    {
        // The OpenAI client's network timeout runs on the system clock: one real second here, and the test only
        // checks that the call ends on its own (a hang would leave it running past the 30 s guard).
        await using var server = new SilentServer();
        using var chat = VoicePipeline.Together.Chat.TogetherChat.CreateChatClient(new TogetherClientOptions { ApiKey = Key, BaseUrl = server.BaseUrl, MaxRetries = 0, RequestTimeout = TimeSpan.FromSeconds(1) });

        var call = chat.GetResponseAsync("Anyone there?");
        await Record.ExceptionAsync(() => call.WaitAsync(s_wait));

        call.IsCompleted.Should().BeTrue("the client gave up on the silent server by itself");
        call.IsCompletedSuccessfully.Should().BeFalse();
    }

    [Fact]
    public async Task A_speech_websocket_handshake_that_never_completes_times_out()
    {
        await using var server = new SilentServer();
        var time = new GatedTimeProvider();
        using var client = new TogetherSpeechClient(new TogetherClientOptions { ApiKey = Key, BaseUrl = server.BaseUrl, TimeProvider = time, MaxRetries = 0 })
        {
            SessionTimeout = TimeSpan.FromSeconds(6),
        };

        var connecting = client.ConnectAsync(TogetherTtsOptions.DefaultModel, "af_heart");
        await time.TimerCreated(TimeSpan.FromSeconds(6)).WaitAsync(s_wait);
        await server.Connected.WaitAsync(s_wait);
        time.Advance(TimeSpan.FromSeconds(6));

        var error = (await FluentActions.Awaiting(() => connecting.WaitAsync(s_wait)).Should().ThrowAsync<TogetherApiException>()).Which;
        error.ErrorCode.Should().Be("session_timeout");
        error.Message.Should().Contain("handshake");
    }

    [Fact]
    public async Task A_realtime_websocket_handshake_that_never_completes_times_out()
    {
        await using var server = new SilentServer();
        var time = new GatedTimeProvider();
        var uri = new TogetherSttOptions { BaseUrl = server.BaseUrl }.BuildUri(TogetherSttOptions.DefaultModel);

        var connecting = RealtimeConnection.ConnectAsync(uri, Key, TimeSpan.FromSeconds(4), time, null, CancellationToken.None);
        await time.TimerCreated(TimeSpan.FromSeconds(4)).WaitAsync(s_wait);
        await server.Connected.WaitAsync(s_wait);
        time.Advance(TimeSpan.FromSeconds(4));

        var error = (await FluentActions.Awaiting(() => connecting.WaitAsync(s_wait)).Should().ThrowAsync<TogetherApiException>()).Which;
        error.ErrorCode.Should().Be("session_timeout");
    }

    [Theory]
    [InlineData(TogetherTtsMode.Sse)]
    [InlineData(TogetherTtsMode.Rest)]
    public async Task A_speech_stream_the_server_stops_sending_ends_as_stalled(TogetherTtsMode mode)
    {
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { ApiKey = Key });
        emulator.Options.SpeechFaults.StallAfterChunks = 0;
        var time = new GatedTimeProvider();
        using var client = new TogetherSpeechClient(new TogetherClientOptions { ApiKey = Key, BaseUrl = emulator.BaseUrl, TimeProvider = time, MaxRetries = 0 })
        {
            StallTimeout = TimeSpan.FromSeconds(8),
        };

        var reading = ReadAllAsync(client.StreamAsync(new SpeechRequest { Input = "Going quiet.", Model = TogetherTtsOptions.DefaultModel, Voice = "af_heart" }, mode));
        await time.TimerCreated(TimeSpan.FromSeconds(8)).WaitAsync(s_wait);
        time.Advance(TimeSpan.FromSeconds(7.9));
        reading.IsCompleted.Should().BeFalse();
        time.Advance(TimeSpan.FromSeconds(0.1));

        var error = (await FluentActions.Awaiting(() => reading.WaitAsync(s_wait)).Should().ThrowAsync<TogetherApiException>()).Which;
        error.ErrorCode.Should().Be(TogetherSpeechClient.StalledCode);
        error.Message.Should().Contain("incomplete");
    }

    [Fact]
    public async Task A_stalled_websocket_reply_ends_incomplete_with_an_error_and_the_next_one_is_spoken()
    {
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { ApiKey = Key });
        emulator.Options.SpeechFaults.StallAfterChunks = 0;
        var time = new GatedTimeProvider();
        var service = new TogetherTtsService(new TogetherTtsOptions { ApiKey = Key, BaseUrl = emulator.BaseUrl, StallTimeout = TimeSpan.FromSeconds(9) });
        await using var harness = await FrameProcessorHarness.StartAsync(service, new HarnessOptions { TimeProvider = time, Timeout = s_wait });

        await harness.SendAsync(new TtsSpeakFrame("The server goes quiet in the middle of this reply."));
        await time.TimerCreated(TimeSpan.FromSeconds(9)).WaitAsync(s_wait);
        time.Advance(TimeSpan.FromSeconds(9));
        var stopped = await harness.WaitForDownstreamAsync<TtsStoppedFrame>();
        var error = await harness.WaitForUpstreamAsync<ErrorFrame>();

        stopped.IsComplete.Should().BeFalse("the reply was cut short");
        error.Fatal.Should().BeFalse();
        error.Message.Should().Contain("stalled");

        emulator.Options.SpeechFaults.StallAfterChunks = null;
        await harness.SendAsync(new TtsSpeakFrame("And then it speaks."));
        await harness.WaitForDownstreamAsync<TtsStoppedFrame>(s => s.IsComplete);
        await harness.EndAsync();
    }

    private static async Task<int> ReadAllAsync(IAsyncEnumerable<SpeechChunk> chunks)
    {
        var bytes = 0;
        await foreach (var chunk in chunks)
            bytes += chunk.Audio.Length;
        return bytes;
    }

    /// <summary>A server on a real loopback socket that takes connections, reads what comes, and never answers.</summary>
    private sealed class SilentServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly List<TcpClient> _held = [];
        private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Task _accepting;

        public SilentServer()
        {
            _listener.Start();
            BaseUrl = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/v1");
            _accepting = AcceptAsync();
        }

        public Uri BaseUrl { get; }

        /// <summary>Completes once a client's request arrived.</summary>
        public Task Connected => _connected.Task;

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            lock (_held)
                _held.ForEach(c => c.Dispose());
            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                lock (_held)
                    _held.Add(client);
                _ = DrainAsync(client);
            }
        }

        private async Task DrainAsync(TcpClient client)
        {
            var buffer = new byte[16 * 1024];
            try
            {
                while (await client.GetStream().ReadAsync(buffer, _stop.Token) > 0)
                    _connected.TrySetResult();
            }
            catch (Exception exception) when (exception is IOException or OperationCanceledException or ObjectDisposedException)
            {
                // The client gave up or the test ended.
            }
        }
    }
}
