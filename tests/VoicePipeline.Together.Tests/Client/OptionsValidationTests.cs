using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using VoicePipeline.Together.Chat;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Emulator;
using VoicePipeline.Together.Realtime;
using VoicePipeline.Together.Speech;
using VoicePipeline.Together.Transcriptions;

namespace VoicePipeline.Together.Tests.Client;

/// <summary>
/// Options are validated once, where a client is built: a setting out of range is an error naming it, never quietly
/// corrected; nothing reads the environment; every timeout and backoff of a client runs on the injected clock.
/// </summary>
public sealed class OptionsValidationTests
{
    private static TogetherClientOptions Valid() => new() { ApiKey = "sk-valid-19d2", BaseUrl = new Uri("http://127.0.0.1:9/v1") };

    public static TheoryData<string, Action<TogetherClientOptions>> BadClientOptions => new()
    {
        { "TogetherClientOptions.MaxRetries", o => o.MaxRetries = -1 },
        { "TogetherClientOptions.RetryBaseDelay", o => o.RetryBaseDelay = TimeSpan.FromMilliseconds(-1) },
        { "TogetherClientOptions.RetryBaseDelay", o => o.RetryBaseDelay = TimeSpan.FromDays(2) },
    };

    [Theory]
    [MemberData(nameof(BadClientOptions))]
    public void Every_client_rejects_a_setting_out_of_range_naming_it(string option, Action<TogetherClientOptions> spoil)
    {
        var options = Valid();
        spoil(options);

        foreach (var build in new Action[]
        {
            () => new TogetherSpeechClient(options).Dispose(),
            () => new TogetherTranscriptionClient(options).Dispose(),
            () => TogetherChat.CreateChatClient(options).Dispose(),
        })
        {
            var error = build.Should().Throw<ArgumentOutOfRangeException>().Which;
            error.ParamName.Should().Be(option);
            error.Message.Should().StartWith(option + " must be");
        }
    }

    [Theory]
    [InlineData("relative/v1")]
    [InlineData("ftp://example.org/v1")]
    public void A_base_url_that_is_not_absolute_http_or_ws_is_rejected(string url)
    {
        var options = Valid();
        options.BaseUrl = new Uri(url, UriKind.RelativeOrAbsolute);

        var act = () => new TogetherSpeechClient(options);

        act.Should().Throw<ArgumentException>().Which.Message.Should().Contain("TogetherClientOptions.BaseUrl must be an absolute http, https, ws or wss URL");
    }

    [Fact]
    public void A_missing_key_is_still_its_own_error()
    {
        var options = Valid();
        options.ApiKey = " ";

        var act = () => new TogetherTranscriptionClient(options);

        act.Should().Throw<ArgumentException>().WithMessage("*API key is required*TOGETHER_API_KEY*");
    }

    [Fact]
    public void The_speech_clients_session_timeout_is_checked_when_set()
    {
        using var client = new TogetherSpeechClient(Valid());
        var act = () => new TogetherSpeechClient(Valid()) { SessionTimeout = TimeSpan.Zero };

        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("TogetherSpeechClient.SessionTimeout");
        client.SessionTimeout.Should().Be(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void The_defaults_are_valid()
    {
        Valid().Validate().Errors.Should().BeEmpty();
        new TogetherSttOptions().Validate().Errors.Should().BeEmpty();
        new TogetherTtsOptions().Validate().Errors.Should().BeEmpty();
    }

    [Fact]
    public void Every_stt_setting_out_of_range_is_reported_by_name()
    {
        var options = new TogetherSttOptions
        {
            Model = "",
            SessionTimeout = TimeSpan.Zero,
            FinalTranscriptTimeout = TimeSpan.FromSeconds(-1),
            ReconnectBaseDelay = TimeSpan.FromSeconds(2),
            ReconnectMaxDelay = TimeSpan.FromSeconds(1),
            MaxConnectAttempts = 0,
            MaxReplay = TimeSpan.FromHours(2),
            KeepAliveInterval = TimeSpan.FromSeconds(300),
        };

        var errors = options.Validate().Errors;

        errors.Select(e => e.Option).Should().BeEquivalentTo(
            "TogetherSttOptions.Model", "TogetherSttOptions.SessionTimeout", "TogetherSttOptions.FinalTranscriptTimeout",
            "TogetherSttOptions.ReconnectMaxDelay", "TogetherSttOptions.MaxConnectAttempts", "TogetherSttOptions.MaxReplay",
            "TogetherSttOptions.KeepAliveInterval");
        errors.Single(e => e.Option.EndsWith("KeepAliveInterval", StringComparison.Ordinal)).Message.Should().Contain("less than 300 s").And.Contain("00:05:00");
        errors.Single(e => e.Option.EndsWith("MaxConnectAttempts", StringComparison.Ordinal)).Message.Should().Be("TogetherSttOptions.MaxConnectAttempts must be at least 1; it is 0.");
        var thrown = FluentActions.Invoking(() => options.Validate().ThrowIfAny()).Should().Throw<ArgumentException>().Which;
        thrown.ParamName.Should().Be("TogetherSttOptions.Model");
    }

    [Fact]
    public void Every_tts_setting_out_of_range_is_reported_by_name()
    {
        var options = new TogetherTtsOptions
        {
            Voice = " ",
            Speed = 0,
            Mode = (TogetherTtsMode)7,
            MaxRetries = -2,
            RetryBaseDelay = TimeSpan.FromDays(3),
            SessionTimeout = TimeSpan.Zero,
        };

        options.Validate().Errors.Select(e => e.Option).Should().BeEquivalentTo(
            "TogetherTtsOptions.Voice", "TogetherTtsOptions.Speed", "TogetherTtsOptions.Mode", "TogetherTtsOptions.MaxRetries",
            "TogetherTtsOptions.RetryBaseDelay", "TogetherTtsOptions.SessionTimeout");
        new TogetherTtsOptions { Speed = double.NaN }.Validate().Errors.Should().ContainSingle().Which.Message.Should().Contain("it is NaN");
    }

    [Fact]
    public void Options_no_longer_read_the_environment()
    {
        var before = Environment.GetEnvironmentVariable(TogetherClientOptions.ApiKeyEnvironmentVariable);
        Environment.SetEnvironmentVariable(TogetherClientOptions.ApiKeyEnvironmentVariable, "sk-from-the-environment");
        try
        {
            new TogetherSttOptions().ApiKey.Should().BeNull();
            new TogetherTtsOptions().ApiKey.Should().BeNull();
            new TogetherClientOptions().ApiKey.Should().BeNull();
        }
        finally
        {
            Environment.SetEnvironmentVariable(TogetherClientOptions.ApiKeyEnvironmentVariable, before);
        }
    }

    [Fact]
    public async Task A_retry_waits_for_Retry_After_on_the_injected_clock()
    {
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { ApiKey = "sk-clock-5e1b" });
        emulator.Options.SpeechFaults.RetryAfterSeconds = 30;
        emulator.Options.SpeechFaults.FailNext(429);
        var time = new GatedTimeProvider();
        using var client = new TogetherSpeechClient(new TogetherClientOptions { ApiKey = "sk-clock-5e1b", BaseUrl = emulator.BaseUrl, TimeProvider = time });

        var speaking = client.SynthesizeAsync(new SpeechRequest { Input = "Patience.", Model = TogetherTtsOptions.DefaultModel, Voice = "af_heart" });
        await time.TimerCreated(TimeSpan.FromSeconds(30)).WaitAsync(TimeSpan.FromSeconds(30));
        time.Advance(TimeSpan.FromSeconds(29));
        speaking.IsCompleted.Should().BeFalse("the retry waits the 30 s the server asked for, on the injected clock");
        time.Advance(TimeSpan.FromSeconds(1));

        var wav = await speaking.WaitAsync(TimeSpan.FromSeconds(30));
        Encoding.ASCII.GetString(wav, 0, 4).Should().Be("RIFF");
    }

    [Fact]
    public async Task The_speech_sockets_session_timeout_runs_on_the_injected_clock()
    {
        await using var server = await SilentWebSocketServer.StartAsync();
        var time = new GatedTimeProvider();
        using var client = new TogetherSpeechClient(new TogetherClientOptions { ApiKey = "sk-silent-0c4f", BaseUrl = server.BaseUrl, TimeProvider = time, MaxRetries = 0 })
        {
            SessionTimeout = TimeSpan.FromSeconds(7),
        };

        var connecting = client.ConnectAsync(TogetherTtsOptions.DefaultModel, "af_heart");
        await time.TimerCreated(TimeSpan.FromSeconds(7)).WaitAsync(TimeSpan.FromSeconds(30));
        time.Advance(TimeSpan.FromSeconds(6.9));
        connecting.IsCompleted.Should().BeFalse("the server never says session.created, and 7 s have not passed on the injected clock");
        time.Advance(TimeSpan.FromSeconds(0.1));

        var error = (await FluentActions.Awaiting(() => connecting.WaitAsync(TimeSpan.FromSeconds(30))).Should().ThrowAsync<TogetherApiException>()).Which;
        error.ErrorCode.Should().Be("session_timeout");
        error.Message.Should().Contain("7 s");
    }

    [Fact]
    public async Task The_realtime_sockets_session_timeout_runs_on_the_injected_clock()
    {
        await using var server = await SilentWebSocketServer.StartAsync();
        var time = new GatedTimeProvider();
        var uri = new TogetherSttOptions { BaseUrl = server.BaseUrl }.BuildUri(TogetherSttOptions.DefaultModel);

        var connecting = RealtimeConnection.ConnectAsync(uri, "sk-silent-77aa", TimeSpan.FromSeconds(4), time, null, CancellationToken.None);
        await time.TimerCreated(TimeSpan.FromSeconds(4)).WaitAsync(TimeSpan.FromSeconds(30));
        time.Advance(TimeSpan.FromSeconds(3.9));
        connecting.IsCompleted.Should().BeFalse();
        time.Advance(TimeSpan.FromSeconds(0.1));

        var error = (await FluentActions.Awaiting(() => connecting.WaitAsync(TimeSpan.FromSeconds(30))).Should().ThrowAsync<TogetherApiException>()).Which;
        error.ErrorCode.Should().Be("session_timeout");
    }

    /// <summary>A WebSocket server on a real loopback socket that accepts the handshake and then says nothing.</summary>
    private sealed class SilentWebSocketServer : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly Task _accepting;
        private readonly CancellationTokenSource _stop = new();
        private readonly List<IDisposable> _held = [];

        private SilentWebSocketServer()
        {
            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            BaseUrl = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/v1");
            _accepting = AcceptAsync();
        }

        public Uri BaseUrl { get; }

        public static Task<SilentWebSocketServer> StartAsync() => Task.FromResult(new SilentWebSocketServer());

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            lock (_held)
                _held.ForEach(h => h.Dispose());
            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                var tcp = await _listener.AcceptTcpClientAsync(_stop.Token);
                var stream = tcp.GetStream();
                var request = new StringBuilder();
                var buffer = new byte[4096];
                while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var read = await stream.ReadAsync(buffer, _stop.Token);
                    if (read == 0)
                        break;
                    request.Append(Encoding.ASCII.GetString(buffer, 0, read));
                }
                var key = request.ToString().Split("\r\n").First(l => l.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase))[18..].Trim();
                var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"), _stop.Token);
                var socket = WebSocket.CreateFromStream(stream, isServer: true, null, Timeout.InfiniteTimeSpan);
                lock (_held)
                {
                    _held.Add(socket);
                    _held.Add(tcp);
                }
            }
        }
    }
}
