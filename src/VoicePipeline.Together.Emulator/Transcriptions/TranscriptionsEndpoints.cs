using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using VoicePipeline.Audio;
using VoicePipeline.Together.Emulator.Recognition;
using VoicePipeline.Together.Transcriptions;

namespace VoicePipeline.Together.Emulator.Transcriptions;

/// <summary>
/// <c>/v1/audio/transcriptions</c> and <c>/v1/audio/translations</c>: the upload is streamed to a temporary file (never
/// held in memory), decoded, split at silences and recognized; word times come from the recognizer.
/// </summary>
internal static class TranscriptionsEndpoints
{
    public static IEndpointRouteBuilder MapTranscriptions(this IEndpointRouteBuilder routes, TogetherEmulatorOptions options, EmulatorState state)
    {
        routes.MapPost("/audio/transcriptions", context => HandleAsync(context, options, state, translate: false));
        routes.MapPost("/audio/translations", context => HandleAsync(context, options, state, translate: true));
        return routes;
    }

    private static async Task HandleAsync(HttpContext context, TogetherEmulatorOptions options, EmulatorState state, bool translate)
    {
        var response = context.Response;
        if (!EmulatorAuth.IsAuthorized(context.Request, options))
        {
            await EmulatorAuth.WriteUnauthorizedAsync(response).ConfigureAwait(false);
            return;
        }
        if (await options.TranscriptionFaults.TryRefuseAsync(response).ConfigureAwait(false))
            return;
        var boundary = MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var type) ? HeaderUtilities.RemoveQuotes(type.Boundary).Value : null;
        if (string.IsNullOrEmpty(boundary))
        {
            await EmulatorAuth.WriteErrorAsync(response, 400, "invalid_request_error", "invalid_params", "Expected multipart/form-data.").ConfigureAwait(false);
            return;
        }

        var temp = Path.Combine(Path.GetTempPath(), "vp-emulator-" + Guid.NewGuid().ToString("N"));
        try
        {
            var order = new List<string>();
            var fields = new Dictionary<string, string>(StringComparer.Ordinal);
            string? fileName = null, fileType = null, sha = null;
            long bytes = 0;
            var reader = new MultipartReader(boundary, context.Request.Body) { BodyLengthLimit = null };
            for (var section = await reader.ReadNextSectionAsync(context.RequestAborted).ConfigureAwait(false); section is not null;
                 section = await reader.ReadNextSectionAsync(context.RequestAborted).ConfigureAwait(false))
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                    continue;
                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
                order.Add(name);
                if (disposition.IsFileDisposition())
                {
                    fileName = HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                    fileType = section.ContentType;
                    await using var file = File.Create(temp);
                    using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    var buffer = new byte[81920];
                    int n;
                    while ((n = await section.Body.ReadAsync(buffer, context.RequestAborted).ConfigureAwait(false)) > 0)
                    {
                        hash.AppendData(buffer, 0, n);
                        await file.WriteAsync(buffer.AsMemory(0, n), context.RequestAborted).ConfigureAwait(false);
                        bytes += n;
                    }
                    sha = Convert.ToHexStringLower(hash.GetHashAndReset());
                }
                else
                {
                    if (await ReadFieldAsync(section.Body, context.RequestAborted).ConfigureAwait(false) is not { } value)
                    {
                        await EmulatorAuth.WriteErrorAsync(response, 413, "invalid_request_error", "field_too_large", $"The form field '{name}' is longer than {MaxFieldBytes} bytes.", name).ConfigureAwait(false);
                        return;
                    }
                    fields[name] = value;
                }
            }
            state.AddTranscriptionRequest(new TranscriptionRequestLog(context.Request.Path, order, fields, fileName, fileType, sha, bytes));

            if (fileName is null && fields.TryGetValue("file", out var url) && Uri.TryCreate(url, UriKind.Absolute, out var uri))
            {
                if (await FetchAsync(uri, temp, options, response, context.RequestAborted).ConfigureAwait(false) is false)
                    return;
            }
            else if (fileName is null)
            {
                await EmulatorAuth.WriteErrorAsync(response, 400, "invalid_request_error", "invalid_params", "A file (upload or URL) is required.").ConfigureAwait(false);
                return;
            }

            short[] audio;
            try
            {
                audio = await ReadPrefixAsync(temp, options.MaxRecognizedSeconds, context.RequestAborted).ConfigureAwait(false);
            }
            catch (AudioFormatException exception)
            {
                await EmulatorAuth.WriteErrorAsync(response, 400, "invalid_request_error", "unsupported_format", exception.Problem).ConfigureAwait(false);
                return;
            }

            var result = Recognize(audio, options.Recognizer ?? DefaultRecognizer.Factory, fields, translate);
            response.ContentType = "application/json";
            var verbose = fields.GetValueOrDefault("response_format") == "verbose_json";
            await response.WriteAsync(verbose
                ? JsonSerializer.Serialize(result, TranscriptionJsonContext.Default.TranscriptionResult)
                : JsonSerializer.Serialize(new TranscriptionResult { Text = result.Text }, TranscriptionJsonContext.Default.TranscriptionResult), context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>The longest text field of a form (a prompt, a URL): the file is the only large part.</summary>
    private const int MaxFieldBytes = 64 * 1024;

    /// <summary>Reads a text field, or returns null when it is longer than <see cref="MaxFieldBytes"/>.</summary>
    private static async Task<string?> ReadFieldAsync(Stream body, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxFieldBytes + 1];
        var total = 0;
        int n;
        while (total < buffer.Length && (n = await body.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false)) > 0)
            total += n;
        return total > MaxFieldBytes ? null : System.Text.Encoding.UTF8.GetString(buffer, 0, total);
    }

    /// <summary>Fetches a <c>file</c> URL into <paramref name="path"/> when allowed; false once the request was answered with a refusal.</summary>
    private static async Task<bool> FetchAsync(Uri uri, string path, TogetherEmulatorOptions options, HttpResponse response, CancellationToken cancellationToken)
    {
        if (!options.FetchFileUrls)
        {
            await EmulatorAuth.WriteErrorAsync(response, 400, "invalid_request_error", "url_fetch_disabled",
                "This emulator does not fetch audio URLs unless started to (TogetherEmulatorOptions.FetchFileUrls, vp emulator --fetch-file-urls); upload the file instead.", "file").ConfigureAwait(false);
            return false;
        }
        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
        {
            await EmulatorAuth.WriteErrorAsync(response, 400, "invalid_request_error", "invalid_url", $"Only http and https URLs are fetched, not {uri.Scheme}.", "file").ConfigureAwait(false);
            return false;
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60), MaxResponseContentBufferSize = int.MaxValue };
        try
        {
            using var download = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!download.IsSuccessStatusCode)
            {
                await EmulatorAuth.WriteErrorAsync(response, 400, "invalid_request_error", "url_fetch_failed", $"Fetching the file URL answered HTTP {(int)download.StatusCode}.", "file").ConfigureAwait(false);
                return false;
            }
            if (download.Content.Headers.ContentLength > options.MaxFetchedFileBytes)
                return await TooLargeAsync().ConfigureAwait(false);
            await using var source = await download.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using var file = File.Create(path);
            var buffer = new byte[81920];
            long total = 0;
            int n;
            while ((n = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += n;
                if (total > options.MaxFetchedFileBytes)
                    return await TooLargeAsync().ConfigureAwait(false);
                await file.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            }
            return true;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            await EmulatorAuth.WriteErrorAsync(response, 400, "invalid_request_error", "url_fetch_failed", $"Could not fetch the file URL: {exception.Message}", "file").ConfigureAwait(false);
            return false;
        }

        async Task<bool> TooLargeAsync()
        {
            await EmulatorAuth.WriteErrorAsync(response, 413, "invalid_request_error", "file_too_large",
                $"The file at the URL is larger than this emulator fetches ({options.MaxFetchedFileBytes} bytes).", "file").ConfigureAwait(false);
            return false;
        }
    }

    /// <summary>Decodes at most <paramref name="seconds"/> of audio to 16 kHz mono, streaming: a huge upload costs no memory.</summary>
    private static async Task<short[]> ReadPrefixAsync(string path, int seconds, CancellationToken cancellationToken)
    {
        var decoder = await AudioFile.OpenAsync(path, cancellationToken).ConfigureAwait(false);
        await using var _ = decoder;
        var converter = new MonoConverter(decoder.Info.SampleRate, decoder.Info.Channels, 16_000);
        var limit = seconds * 16_000;
        var audio = new List<short>();
        var buffer = new short[8192 * decoder.Info.Channels];
        int read;
        while (audio.Count < limit && (read = await decoder.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            audio.AddRange(converter.Convert(buffer.AsSpan(0, read)).ToArray());
        if (audio.Count < limit)
            audio.AddRange(converter.Flush().ToArray());
        return audio.Count > limit ? audio.GetRange(0, limit).ToArray() : audio.ToArray();
    }

    /// <summary>Splits at silences of 0.5 s, recognizes each stretch, builds segments, words and (if asked) speakers.</summary>
    internal static TranscriptionResult Recognize(short[] audio, IStreamingRecognizerFactory factory, IReadOnlyDictionary<string, string> fields, bool translate)
    {
        var language = translate ? "en" : fields.GetValueOrDefault("language") is { Length: > 0 } l && l != "auto" ? l : "en";
        using var recognizer = factory.Create(new RecognizerSessionOptions(fields.GetValueOrDefault("model") ?? "emulator", language, fields.GetValueOrDefault("prompt")));
        var segments = new List<TranscriptionSegment>();
        var words = new List<TranscriptionWord>();
        var pitches = new List<double>();
        foreach (var (start, end) in SpeechStretches(audio))
        {
            recognizer.AcceptAudio(audio.AsSpan(start, end - start));
            var recognized = recognizer.EndUtterance();
            if (recognized.Text.Length == 0)
                continue;
            var offset = start / 16000.0;
            segments.Add(new TranscriptionSegment { Id = segments.Count, Start = offset, End = end / 16000.0, Text = recognized.Text });
            words.AddRange(recognized.Words.Select(w => new TranscriptionWord { Word = w.Word, Start = offset + w.Start.TotalSeconds, End = offset + w.End.TotalSeconds }));
            pitches.Add(ZeroCrossingRate(audio.AsSpan(start, end - start)));
        }

        var result = new TranscriptionResult
        {
            Task = translate ? "translate" : "transcribe",
            Language = language,
            Duration = audio.Length / 16000.0,
            Text = string.Join(' ', segments.Select(s => s.Text)),
            Segments = segments,
            Words = fields.GetValueOrDefault("timestamp_granularities") == "word" ? words : null,
        };
        if (!translate && fields.GetValueOrDefault("diarize") == "true")
        {
            var speakers = Diarize(pitches, Int(fields, "min_speakers") ?? 1, Int(fields, "max_speakers") ?? 2);
            result.SpeakerSegments = segments.Select((s, i) => new SpeakerSegment
            {
                Id = i, SpeakerId = $"SPEAKER_{speakers[i]:00}", Start = s.Start, End = s.End, Text = s.Text,
                Words = words.Where(w => w.Start >= s.Start && w.End <= s.End + 0.01)
                    .Select(w => new TranscriptionWord { Word = w.Word, Start = w.Start, End = w.End, SpeakerId = $"SPEAKER_{speakers[i]:00}" }).ToList(),
            }).ToList();
        }
        return result;
    }

    private static int? Int(IReadOnlyDictionary<string, string> fields, string name)
        => fields.TryGetValue(name, out var v) && int.TryParse(v, CultureInfo.InvariantCulture, out var i) ? i : null;

    /// <summary>Stretches of sound separated by at least 0.5 s below -45 dBFS.</summary>
    private static IEnumerable<(int Start, int End)> SpeechStretches(short[] audio)
    {
        const int hop = 320, minGap = 25;
        int? start = null;
        var quiet = 0;
        for (var i = 0; i + hop <= audio.Length; i += hop)
        {
            var loud = Pcm.Dbfs(audio.AsSpan(i, hop)) > -45;
            if (loud)
            {
                start ??= i;
                quiet = 0;
            }
            else if (start is not null && ++quiet >= minGap)
            {
                yield return (start.Value, i - (quiet - 1) * hop);
                (start, quiet) = (null, 0);
            }
        }
        if (start is not null)
            yield return (start.Value, audio.Length);
    }

    /// <summary>A cheap voice-pitch proxy: zero crossings per second.</summary>
    private static double ZeroCrossingRate(ReadOnlySpan<short> samples)
    {
        var crossings = 0;
        for (var i = 1; i < samples.Length; i++)
        {
            if ((samples[i - 1] < 0) != (samples[i] < 0))
                crossings++;
        }
        return crossings * 16000.0 / Math.Max(1, samples.Length);
    }

    /// <summary>Clusters segments by pitch proxy (1-D k-means, k within the bounds); labels by first appearance.</summary>
    private static int[] Diarize(IReadOnlyList<double> pitches, int minSpeakers, int maxSpeakers)
    {
        if (pitches.Count == 0)
            return [];
        var sorted = pitches.Order().ToArray();
        var spread = sorted[^1] / Math.Max(1, sorted[0]);
        var k = Math.Clamp(spread > 1.3 ? maxSpeakers : minSpeakers, 1, Math.Min(Math.Max(1, maxSpeakers), pitches.Count));
        var centers = Enumerable.Range(0, k).Select(i => sorted[i * (sorted.Length - 1) / Math.Max(1, k - 1)]).ToArray();
        var labels = new int[pitches.Count];
        for (var iteration = 0; iteration < 20; iteration++)
        {
            for (var i = 0; i < pitches.Count; i++)
                labels[i] = Enumerable.Range(0, k).MinBy(c => Math.Abs(pitches[i] - centers[c]));
            for (var c = 0; c < k; c++)
            {
                var members = pitches.Where((_, i) => labels[i] == c).ToArray();
                if (members.Length > 0)
                    centers[c] = members.Average();
            }
        }
        var order = new Dictionary<int, int>();
        return labels.Select(l => order.TryGetValue(l, out var s) ? s : order[l] = order.Count).ToArray();
    }
}
