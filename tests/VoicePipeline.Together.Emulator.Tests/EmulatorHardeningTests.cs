using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using VoicePipeline.Audio;
using VoicePipeline.Together.Emulator.Recognition;

namespace VoicePipeline.Together.Emulator.Tests;

/// <summary>
/// The emulator's guards: it listens beyond loopback only with a key of its own, fetches <c>file</c> URLs only when
/// told to (http and https, bounded), and refuses bodies and WebSocket messages over its limits with 413 and 1009.
/// </summary>
public sealed class EmulatorHardeningTests
{
    private const string Key = "sk-guard-77e1";

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("192.168.1.10")]
    [InlineData("::")]
    [InlineData("emulator.example")]
    public async Task Listening_beyond_loopback_without_its_own_key_is_refused_clearly(string host)
    {
        var act = () => TogetherEmulator.StartAsync(new TogetherEmulatorOptions { Host = host });

        (await act.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain(host).And.Contain("--api-key").And.Contain("127.0.0.0/8");
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.9.8.7", true)]
    [InlineData("::1", true)]
    [InlineData("[::1]", true)]
    [InlineData("localhost", true)]
    [InlineData("0.0.0.0", false)]
    [InlineData("10.0.0.1", false)]
    [InlineData("::ffff:192.168.1.1", false)]
    [InlineData("*", false)]
    public void Loopback_is_127_0_0_0_8_and_ipv6_one(string host, bool loopback)
        => TogetherEmulator.IsLoopback(host).Should().Be(loopback);

    [Fact]
    public async Task With_its_own_key_it_listens_on_every_interface()
    {
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { Host = "0.0.0.0", ApiKey = Key });
        using var http = new HttpClient();
        var port = emulator.BaseUrl.Port;

        using var anyKey = Get(port, "/v1/voices", "sk-someone-else");
        using var ownKey = Get(port, "/v1/voices", Key);

        (await http.SendAsync(anyKey)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await http.SendAsync(ownKey)).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_file_url_is_not_fetched_unless_enabled()
    {
        using var files = new OneFileServer(Wav(1000));
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { Recognizer = new ScriptedRecognizerFactory("hi") });

        var (status, code) = await TranscribeUrlAsync(emulator, files.Url);

        status.Should().Be(HttpStatusCode.BadRequest);
        code.Should().Be("url_fetch_disabled");
        files.Requests.Should().Be(0, "the emulator never contacted the URL");
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://127.0.0.1/speech.wav")]
    public async Task When_enabled_only_http_and_https_urls_are_fetched(string url)
    {
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { FetchFileUrls = true, Recognizer = new ScriptedRecognizerFactory("hi") });

        var (status, code) = await TranscribeUrlAsync(emulator, url);

        status.Should().Be(HttpStatusCode.BadRequest);
        code.Should().Be("invalid_url");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task When_enabled_a_fetched_file_over_the_limit_is_refused_with_413(bool declaresLength)
    {
        using var files = new OneFileServer(Wav(16_000), declaresLength);
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { FetchFileUrls = true, MaxFetchedFileBytes = 8_000, Recognizer = new ScriptedRecognizerFactory("hi") });

        var (status, code) = await TranscribeUrlAsync(emulator, files.Url);

        status.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        code.Should().Be("file_too_large");
    }

    [Fact]
    public async Task When_enabled_a_file_within_the_limit_is_fetched_and_transcribed()
    {
        using var files = new OneFileServer(Wav(16_000));
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { FetchFileUrls = true, Recognizer = new ScriptedRecognizerFactory("hi") });

        var (status, _) = await TranscribeUrlAsync(emulator, files.Url);

        status.Should().Be(HttpStatusCode.OK);
        files.Requests.Should().Be(1);
    }

    [Fact]
    public async Task An_upload_over_the_body_limit_is_answered_413()
    {
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { MaxRequestBodyBytes = 64 * 1024, Recognizer = new ScriptedRecognizerFactory("hi") });
        using var http = new HttpClient();
        using var form = new MultipartFormDataContent { { new StringContent("openai/whisper-large-v3"), "model" }, { new ByteArrayContent(Wav(100_000)), "file", "speech.wav" } };
        using var request = new HttpRequestMessage(HttpMethod.Post, emulator.BaseUrl + "/audio/transcriptions") { Content = form };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);

        using var response = await http.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await ErrorCodeAsync(response)).Should().Be("request_too_large");
        emulator.TranscriptionRequests.Should().BeEmpty();
    }

    [Fact]
    public async Task A_json_body_over_its_limit_is_answered_413()
    {
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { MaxJsonBodyBytes = 4096 });
        using var http = new HttpClient();
        var body = JsonSerializer.Serialize(new { model = "hexgrad/Kokoro-82M", voice = "af_heart", input = new string('a', 10_000) });
        using var request = new HttpRequestMessage(HttpMethod.Post, emulator.BaseUrl + "/audio/speech") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);

        using var response = await http.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        emulator.SpeechRequests.Should().BeEmpty();
    }

    [Theory]
    [InlineData("realtime?model=openai/whisper-large-v3&input_audio_format=pcm_s16le_16000")]
    [InlineData("audio/speech/websocket?model=hexgrad/Kokoro-82M&voice=af_heart")]
    public async Task A_websocket_message_over_the_limit_closes_with_1009(string path)
    {
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { MaxMessageBytes = 32 * 1024, Recognizer = new ScriptedRecognizerFactory("hi") });
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + Key);
        await socket.ConnectAsync(new Uri(emulator.BaseUrl.ToString().Replace("http", "ws", StringComparison.Ordinal) + "/" + path), CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[64 * 1024];
        (await socket.ReceiveAsync(buffer, timeout.Token)).MessageType.Should().Be(WebSocketMessageType.Text, "session.created comes first");

        var huge = Encoding.UTF8.GetBytes("{\"type\":\"input_audio_buffer.append\",\"audio\":\"" + Convert.ToBase64String(new byte[48 * 1024]) + "\"}");
        await socket.SendAsync(huge, WebSocketMessageType.Text, true, timeout.Token);
        WebSocketReceiveResult result;
        do
            result = await socket.ReceiveAsync(buffer, timeout.Token);
        while (result.MessageType != WebSocketMessageType.Close);

        socket.CloseStatus.Should().Be(WebSocketCloseStatus.MessageTooBig);
        socket.CloseStatusDescription.Should().Contain("32768 bytes");
    }

    private static HttpRequestMessage Get(int port, string path, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}{path}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return request;
    }

    private static async Task<(HttpStatusCode Status, string? Code)> TranscribeUrlAsync(TogetherEmulator emulator, string url)
    {
        using var http = new HttpClient();
        using var form = new MultipartFormDataContent { { new StringContent("openai/whisper-large-v3"), "model" }, { new StringContent(url), "file" } };
        using var request = new HttpRequestMessage(HttpMethod.Post, emulator.BaseUrl + "/audio/transcriptions") { Content = form };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        using var response = await http.SendAsync(request);
        return (response.StatusCode, response.IsSuccessStatusCode ? null : await ErrorCodeAsync(response));
    }

    private static async Task<string?> ErrorCodeAsync(HttpResponseMessage response)
        => JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString();

    private static byte[] Wav(int samples)
    {
        using var stream = new MemoryStream();
        using (var writer = new WavWriter(stream, 16_000, leaveOpen: true))
            writer.WriteBytes(new byte[samples * 2]);
        return stream.ToArray();
    }

    /// <summary>An HTTP server on a loopback socket that answers every request with one file (with or without its length).</summary>
    private sealed class OneFileServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private int _requests;

        public OneFileServer(byte[] body, bool declaresLength = true)
        {
            _listener.Start();
            Url = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/speech.wav";
            _ = ServeAsync(body, declaresLength);
        }

        public string Url { get; }

        public int Requests => Volatile.Read(ref _requests);

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _stop.Dispose();
        }

        private async Task ServeAsync(byte[] body, bool declaresLength)
        {
            try
            {
                while (true)
                {
                    using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    var stream = client.GetStream();
                    var request = new StringBuilder();
                    var buffer = new byte[4096];
                    while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                    {
                        var read = await stream.ReadAsync(buffer, _stop.Token);
                        if (read == 0)
                            break;
                        request.Append(Encoding.ASCII.GetString(buffer, 0, read));
                    }
                    Interlocked.Increment(ref _requests);
                    var length = declaresLength ? $"Content-Length: {body.Length}\r\n" : "";
                    await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\n{length}Connection: close\r\n\r\n"), _stop.Token);
                    try
                    {
                        await stream.WriteAsync(body, _stop.Token);
                    }
                    catch (IOException)
                    {
                        // The emulator stopped reading past its limit.
                    }
                }
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        }
    }
}
