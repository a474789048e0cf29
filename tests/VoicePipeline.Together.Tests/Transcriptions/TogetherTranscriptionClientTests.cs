using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using VoicePipeline.Audio;
using VoicePipeline.Tests.Shared;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Emulator;
using VoicePipeline.Together.Emulator.Recognition;
using VoicePipeline.Together.Transcriptions;

namespace VoicePipeline.Together.Tests.Transcriptions;

[CollectionDefinition("uploads", DisableParallelization = true)]
public sealed class UploadsCollection;

[Collection("uploads")]
public sealed class TogetherTranscriptionClientTests : IAsyncLifetime
{
    private const string Key = "sk-batch-secret";
    private static readonly Lazy<short[]> s_speech = new(() => TestAudio.Concat(
        TestAudio.Speak("Good morning everyone.", 16000, "en-us+m3"), TestAudio.Silence(1.0), TestAudio.Speak("Thank you, and hello.", 16000, "en-us+f4")));
    private TogetherEmulator _emulator = null!;
    private TogetherTranscriptionClient _client = null!;

    public async Task InitializeAsync()
    {
        _emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { ApiKey = Key, FetchFileUrls = true, Recognizer = new ScriptedRecognizerFactory("good morning everyone", "thank you and hello") });
        _client = new TogetherTranscriptionClient(new TogetherClientOptions { ApiKey = Key, BaseUrl = _emulator.BaseUrl });
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _emulator.DisposeAsync();
    }

    private static string SpeechFile(string extension = ".wav", params string[] codec)
        => TestAudio.Encode(s_speech.Value, 16000, TestAudio.TempPath(extension), 1, codec);

    [Fact]
    public async Task Sends_model_first_then_the_fields_and_uploads_the_file_byte_for_byte()
    {
        var path = SpeechFile(".mp3");

        var result = await _client.TranscribeAsync(path, new TranscriptionRequest { Language = "en", Prompt = "greetings", Temperature = 0.2, TimestampGranularities = "word" });

        var request = _emulator.TranscriptionRequests.Should().ContainSingle().Subject;
        request.Path.Should().Be("/v1/audio/transcriptions");
        request.FieldOrder.Should().Equal("model", "language", "prompt", "temperature", "response_format", "timestamp_granularities", "file");
        request.Fields["model"].Should().Be("openai/whisper-large-v3");
        request.Fields["response_format"].Should().Be("verbose_json");
        request.FileName.Should().Be(Path.GetFileName(path));
        request.FileContentType.Should().Be("audio/mpeg");
        request.FileSha256.Should().Be(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))));
        result.Text.Should().Be("good morning everyone thank you and hello");
        result.Segments.Should().HaveCount(2);
        result.Words.Should().NotBeEmpty();
        result.Segments![1].Start.Should().BeApproximately(s_speech.Value.Length / 16000.0 - 1.7, 0.8);
    }

    [Theory]
    [InlineData(".wav")]
    [InlineData(".opus", "-c:a", "libopus")]
    [InlineData(".aac", "-c:a", "aac")]
    [InlineData(".flac")]
    [InlineData(".ogg", "-c:a", "libvorbis")]
    [InlineData(".webm", "-c:a", "libopus")]
    [InlineData(".m4a", "-c:a", "aac")]
    public async Task Every_format_is_uploaded_as_it_is_and_transcribed(string extension, params string[] codec)
    {
        var result = await _client.TranscribeAsync(SpeechFile(extension, codec));

        result.Text.Should().Be("good morning everyone thank you and hello");
        _emulator.TranscriptionRequests.Single().Fields["response_format"].Should().Be("json");
    }

    [Fact]
    public async Task A_url_is_sent_as_the_file_field_and_fetched_by_the_server()
    {
        var path = SpeechFile();
        using var server = new StaticFileServer(path);

        var result = await _client.TranslateAsync(server.Url, new TranscriptionRequest { Verbose = true });

        var request = _emulator.TranscriptionRequests.Single();
        request.FileName.Should().BeNull("nothing is uploaded");
        request.Fields["file"].Should().Be(server.Url);
        request.Path.Should().Be("/v1/audio/translations");
        result.Task.Should().Be("translate");
        result.Language.Should().Be("en");
        result.Text.Should().Be("good morning everyone thank you and hello");
    }

    [Fact]
    public async Task Diarization_labels_two_voices_as_two_speakers()
    {
        var result = await _client.TranscribeAsync(SpeechFile(), new TranscriptionRequest { Diarize = true, MinSpeakers = 1, MaxSpeakers = 2 });

        _emulator.TranscriptionRequests.Single().Fields.Should().Contain("diarize", "true").And.Contain("max_speakers", "2");
        result.SpeakerSegments!.Select(s => s.SpeakerId).Should().Equal("SPEAKER_00", "SPEAKER_01");
        Subtitles.ToSrt(result).Should().Contain("SPEAKER_01: thank you and hello");
    }

    [Fact]
    public async Task Rate_limiting_is_retried_after_the_servers_retry_after()
    {
        _emulator.Options.TranscriptionFaults.RetryAfterSeconds = 1;
        _emulator.Options.TranscriptionFaults.FailNext(429, 503);
        var clock = Stopwatch.StartNew();

        var result = await _client.TranscribeAsync(SpeechFile());

        result.Text.Should().NotBeEmpty();
        _emulator.TranscriptionRequests.Should().HaveCount(1, "the two refused attempts were answered before their bodies were read");
        clock.Elapsed.Should().BeGreaterThan(TimeSpan.FromSeconds(1.8), "each refusal asked for a second");
    }

    [Fact]
    public async Task A_413_is_a_clear_file_too_large_error_not_an_html_page()
    {
        _emulator.Options.TranscriptionFaults.FailNext(413);

        var act = () => _client.TranscribeAsync(SpeechFile());

        var error = (await act.Should().ThrowAsync<TogetherApiException>()).Which;
        error.Message.Should().Contain("file too large (limit 500 MB)").And.NotContain("<html");
        error.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task A_wrong_key_is_permanent_and_not_retried()
    {
        using var client = new TogetherTranscriptionClient(new TogetherClientOptions { ApiKey = "sk-nope", BaseUrl = _emulator.BaseUrl });

        var act = () => client.TranscribeAsync(SpeechFile());

        var error = (await act.Should().ThrowAsync<TogetherApiException>()).Which;
        error.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        error.IsPermanent.Should().BeTrue();
        error.Message.Should().Contain("401").And.NotContain("sk-nope");
    }

    [Fact]
    public async Task An_unreachable_server_is_a_typed_connection_error_after_bounded_retries()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there any more
        using var client = new TogetherTranscriptionClient(new TogetherClientOptions
        {
            ApiKey = "sk-unreachable-2b8d", BaseUrl = new Uri($"http://127.0.0.1:{port}/v1"), MaxRetries = 2, RetryBaseDelay = TimeSpan.FromMilliseconds(5),
        });

        var error = (await FluentActions.Awaiting(() => client.TranscribeAsync(SpeechFile())).Should().ThrowAsync<TogetherApiException>()).Which;

        error.ErrorCode.Should().Be("connection_failed");
        error.Message.Should().Contain($"127.0.0.1:{port}/v1/audio/transcriptions").And.NotContain("sk-unreachable");
    }

    [Theory]
    [InlineData("missing", "no such file")]
    [InlineData("empty", "the file is empty")]
    [InlineData("text", "not a readable audio file")]
    public async Task Bad_files_fail_before_any_upload(string kind, string problem)
    {
        var path = TestAudio.TempPath(".wav");
        if (kind == "empty")
            await File.WriteAllBytesAsync(path, []);
        else if (kind == "text")
            await File.WriteAllTextAsync(path, "hello there");

        var act = () => _client.TranscribeAsync(path);

        (await act.Should().ThrowAsync<AudioFormatException>()).Which.Message.Should().StartWith($"{path}: {problem}");
        _emulator.TranscriptionRequests.Should().BeEmpty();
    }

    [Fact]
    public async Task A_300_mb_upload_streams_with_flat_memory()
    {
        _emulator.Options.MaxRecognizedSeconds = 3;
        var path = TestAudio.TempPath(".wav");
        using (var writer = new WavWriter(File.Create(path), 16000))
        {
            var second = new short[16000];
            second.AsSpan(0, 8000).Fill(1000); // some sound so it is audio, not just zeros
            for (var i = 0; i < 300 * 1024 * 1024 / 32000; i++)
                writer.Write(second);
        }
        var size = new FileInfo(path).Length;
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        var before = process.WorkingSet64;
        long maxSent = 0;

        await _client.TranscribeAsync(path, uploadProgress: new Progress<long>(b => Interlocked.Exchange(ref maxSent, Math.Max(maxSent, b))));

        process.Refresh();
        var peakGrowth = process.PeakWorkingSet64 - before;
        _emulator.TranscriptionRequests.Single().FileBytes.Should().Be(size);
        peakGrowth.Should().BeLessThan(150L * 1024 * 1024, $"a {size / 1048576} MB upload must not be held in memory");
        File.Delete(path);
    }

    /// <summary>Serves one file over HTTP on loopback, for URL inputs.</summary>
    private sealed class StaticFileServer : IDisposable
    {
        private readonly HttpListener _listener = new();

        public StaticFileServer(string path)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Url = $"http://127.0.0.1:{port}/{Path.GetFileName(path)}";
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            _ = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    var context = await _listener.GetContextAsync();
                    await using var file = File.OpenRead(path);
                    context.Response.ContentType = "audio/wav";
                    await file.CopyToAsync(context.Response.OutputStream);
                    context.Response.Close();
                }
            });
        }

        public string Url { get; }

        public void Dispose() => _listener.Close();
    }
}
