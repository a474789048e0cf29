using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using VoicePipeline.Audio;
using VoicePipeline.Together.Client;

namespace VoicePipeline.Together.Transcriptions;

/// <summary>
/// Together's batch speech-to-text: <c>POST /audio/transcriptions</c> and <c>/audio/translations</c>, multipart with
/// <c>model</c> first and the file streamed as it is (never held in memory), or a URL the server fetches. Checks the
/// file before uploading; retries 429 and 503 (<see cref="TogetherClientOptions.MaxRetries"/>, three by default), honouring <c>Retry-After</c>.
/// </summary>
public sealed class TogetherTranscriptionClient : IDisposable
{
    /// <summary>The largest direct upload Together accepts.</summary>
    public const long MaxUploadBytes = 500L * 1024 * 1024;

    private readonly TogetherClientOptions _options;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly ResiliencePipeline _retry;

    /// <summary>Creates a client; its options are copied and validated here, once.</summary>
    /// <param name="options">The key, base URL, clock and retry settings.</param>
    /// <param name="httpClient">The HTTP client to send with (not owned); a new one when null.</param>
    /// <param name="loggerFactory">Where retries are logged; nowhere when null.</param>
    /// <exception cref="ArgumentException">No API key is set, or a setting is malformed (the message names it).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range (the message names it).</exception>
    public TogetherTranscriptionClient(TogetherClientOptions options, HttpClient? httpClient = null, ILoggerFactory? loggerFactory = null)
    {
        _options = TogetherClientOptions.ValidatedCopy(options, nameof(options));
        _ownsHttp = httpClient is null;
        _http = httpClient ?? new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        _retry = TogetherHttp.CreateRetry(_options, (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<TogetherTranscriptionClient>(),
            static e => e.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable || e.ErrorCode == TogetherHttp.TimeoutCode);
    }

    /// <summary>Transcribes a file (path) or a public http(s) URL.</summary>
    public Task<TranscriptionResult> TranscribeAsync(string input, TranscriptionRequest? request = null, IProgress<long>? uploadProgress = null, CancellationToken cancellationToken = default)
        => SendAsync("audio/transcriptions", input, request ?? new TranscriptionRequest(), uploadProgress, cancellationToken);

    /// <summary>Translates a file (path) or a public http(s) URL (to English unless the request's language says otherwise).</summary>
    public Task<TranscriptionResult> TranslateAsync(string input, TranscriptionRequest? request = null, IProgress<long>? uploadProgress = null, CancellationToken cancellationToken = default)
    {
        var translation = (request ?? new TranscriptionRequest()).Clone();
        translation.Diarize = false; // not offered for translations
        return SendAsync("audio/translations", input, translation, uploadProgress, cancellationToken);
    }

    /// <summary>Checks a file before any upload: exists, not empty, under the size limit, audio.</summary>
    /// <exception cref="AudioFormatException">The file cannot be sent.</exception>
    public static async Task CheckFileAsync(string path, CancellationToken cancellationToken = default)
    {
        var info = new FileInfo(path);
        if (info.Exists && info.Length > MaxUploadBytes)
            throw new AudioFormatException(path, $"file too large ({info.Length / 1048576.0:0} MB; the limit is 500 MB)");
        await AudioFile.ProbeAsync(path, cancellationToken).ConfigureAwait(false); // missing, empty, not audio
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsHttp)
            _http.Dispose();
    }

    /// <summary>Whether <paramref name="input"/> is an http(s) URL (sent for the server to fetch) rather than a file path.</summary>
    public static bool IsUrl(string input)
        => input is not null && (input.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || input.StartsWith("https://", StringComparison.OrdinalIgnoreCase));

    private async Task<TranscriptionResult> SendAsync(string endpoint, string input, TranscriptionRequest request, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(input);
        var url = IsUrl(input);
        if (!url)
            await CheckFileAsync(input, cancellationToken).ConfigureAwait(false);
        return await _retry.ExecuteAsync(token => new ValueTask<TranscriptionResult>(TogetherHttp.WithTimeoutAsync(_options, "Transcription", async idle =>
        {
            // Every chunk of the upload taken is progress: a long upload is not a silent server.
            using var content = BuildContent(input, url, request, new UploadProgress(progress, idle));
            using var message = new HttpRequestMessage(HttpMethod.Post, _options.BuildUri(endpoint)) { Content = content };
            using var response = await TogetherHttp.SendAsync(_http, message, _options.ApiKey, _options.TimeProvider, idle.Token).ConfigureAwait(false);
            var result = await response.Content.ReadFromJsonAsync(TranscriptionJsonContext.Default.TranscriptionResult, idle.Token).ConfigureAwait(false);
            return result ?? throw new TogetherApiException("The server answered an empty transcription.");
        }, token)), cancellationToken).ConfigureAwait(false);
    }

    private static MultipartFormDataContent BuildContent(string input, bool url, TranscriptionRequest request, IProgress<long>? progress)
    {
        // model first (the server routes on it before the upload), the other fields next, the file last.
        var content = new MultipartFormDataContent();
        void Field(string name, string? value)
        {
            if (value is not null)
                content.Add(new StringContent(value), name);
        }
        Field("model", request.Model);
        Field("language", request.Language);
        Field("prompt", request.Prompt);
        Field("temperature", request.Temperature?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Field("response_format", request.Verbose || request.Diarize || request.TimestampGranularities is not null ? "verbose_json" : "json");
        Field("timestamp_granularities", request.TimestampGranularities);
        if (request.Diarize)
        {
            Field("diarize", "true");
            Field("min_speakers", request.MinSpeakers?.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Field("max_speakers", request.MaxSpeakers?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        if (url)
        {
            Field("file", input);
        }
        else
        {
            var stream = new ProgressStream(File.OpenRead(input), progress);
            var file = new StreamContent(stream, 81920);
            file.Headers.ContentType = new MediaTypeHeaderValue(ContentTypeOf(input));
            file.Headers.ContentLength = stream.Length;
            content.Add(file, "file", Path.GetFileName(input));
        }
        return content;
    }

    internal static string ContentTypeOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".wav" => "audio/wav",
        ".mp3" => "audio/mpeg",
        ".m4a" or ".mp4" => "audio/mp4",
        ".webm" => "audio/webm",
        ".flac" => "audio/flac",
        ".ogg" => "audio/ogg",
        ".opus" => "audio/opus",
        ".aac" => "audio/aac",
        _ => "application/octet-stream",
    };

    /// <summary>Restarts the request's timeout on every chunk of the upload, and reports it to the caller's progress.</summary>
    private sealed class UploadProgress(IProgress<long>? caller, IdleTimeout idle) : IProgress<long>
    {
        public void Report(long value)
        {
            idle.Restart();
            caller?.Report(value);
        }
    }

    /// <summary>Reports bytes read as the upload streams.</summary>
    private sealed class ProgressStream(Stream inner, IProgress<long>? progress) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => inner.CanSeek;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => inner.Position = value; }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Report(inner.Read(buffer, offset, count));
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => Report(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));
        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                inner.Dispose();
            base.Dispose(disposing);
        }

        private int Report(int read)
        {
            _position += read;
            progress?.Report(_position);
            return read;
        }
    }
}
