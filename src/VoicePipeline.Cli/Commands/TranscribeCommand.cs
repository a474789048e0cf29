using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using VoicePipeline.Cli.Infrastructure;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Transcriptions;

namespace VoicePipeline.Cli.Commands;

/// <summary><c>vp transcribe INPUT</c> and <c>vp translate INPUT</c>: Together's batch speech-to-text, one builder for both.</summary>
internal static class TranscribeCommand
{
    public static Command CreateTranscribe() => Create("transcribe", "Transcribe a file or an http(s) URL with Together's batch API.", translate: false);

    public static Command CreateTranslate() => Create("translate", "Translate speech in a file or an http(s) URL (to English by default).", translate: true);

    private static Command Create(string name, string description, bool translate)
    {
        var input = new Argument<string>("input") { Description = "An audio file or an http(s) URL the server fetches." };
        var format = new Option<string>("--format") { DefaultValueFactory = _ => "text", Description = "text, json, verbose_json, srt or vtt." };
        format.AcceptOnlyFromAmong("text", "json", "verbose_json", "srt", "vtt");
        var timestamps = new Option<string?>("--timestamps") { Description = "word or segment." };
        timestamps.AcceptOnlyFromAmong("word", "segment");
        var diarize = new Option<bool>("--diarize") { Description = "Label speakers (transcription only)." };
        var minSpeakers = new Option<int?>("--min-speakers") { Description = "Least number of speakers." };
        var maxSpeakers = new Option<int?>("--max-speakers") { Description = "Most number of speakers." };
        var language = new Option<string?>("--language") { Description = translate ? "The target language." : "The spoken language (ISO-639-1 or auto)." };
        var model = new Option<string>("--model") { DefaultValueFactory = _ => "openai/whisper-large-v3", Description = "The model." };
        var prompt = new Option<string?>("--prompt") { Description = "A prompt that guides the model." };
        var baseUrl = new Option<string?>("--base-url") { Description = "The Together API base URL (or a compatible server)." };
        var apiKey = new Option<string?>("--api-key") { Description = "The API key (default: TOGETHER_API_KEY); without one the embedded emulator runs offline." };
        var output = new Option<string?>("--output", "-o") { Description = "Write the result to this file instead of stdout." };
        var command = new Command(name, description) { input, format, timestamps, minSpeakers, maxSpeakers, language, model, prompt, baseUrl, apiKey, output };
        if (!translate)
            command.Options.Add(diarize);

        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async () =>
        {
            var source = result.GetValue(input)!;
            var chosen = result.GetValue(format)!;
            if (result.GetValue(output) is { } outputPath)
                SafeOutputFile.Check(outputPath, "-o"); // before the upload, not after it
            if (!TogetherTranscriptionClient.IsUrl(source))
                await TogetherTranscriptionClient.CheckFileAsync(source, cancellationToken); // bad input fails before anything starts
            var request = new TranscriptionRequest
            {
                Model = result.GetValue(model)!,
                Language = result.GetValue(language),
                Prompt = result.GetValue(prompt),
                TimestampGranularities = result.GetValue(timestamps),
                Verbose = chosen is "verbose_json" or "srt" or "vtt",
                Diarize = !translate && result.GetValue(diarize),
                MinSpeakers = result.GetValue(minSpeakers),
                MaxSpeakers = result.GetValue(maxSpeakers),
            };
            await using var endpoint = await TogetherEndpoint.ResolveAsync(result.GetValue(apiKey), result.GetValue(baseUrl), fetchAudioUrls: true, cancellationToken);
            using var client = new TogetherTranscriptionClient(new TogetherClientOptions { ApiKey = endpoint.ApiKey, BaseUrl = endpoint.BaseUrl });

            Task<TranscriptionResult> Send(IProgress<long>? progress) => translate
                ? client.TranslateAsync(source, request, progress, cancellationToken)
                : client.TranscribeAsync(source, request, progress, cancellationToken);

            TranscriptionResult transcript;
            if (Console.IsErrorRedirected || TogetherTranscriptionClient.IsUrl(source))
            {
                transcript = await Send(null);
            }
            else
            {
                // A progress bar on the terminal (stderr, so stdout stays the result); nothing extra when piped.
                var size = new FileInfo(source).Length;
                var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
                transcript = await console.Progress().AutoClear(true).StartAsync(async context =>
                {
                    var upload = context.AddTask("uploading", maxValue: size);
                    return await Send(new Progress<long>(sent => upload.Value = sent));
                });
            }

            var text = chosen switch
            {
                "srt" => Subtitles.ToSrt(transcript),
                "vtt" => Subtitles.ToVtt(transcript),
                "json" => JsonSerializer.Serialize(new TranscriptionResult { Text = transcript.Text }, TranscriptionJsonContext.Default.TranscriptionResult) + "\n",
                "verbose_json" => JsonSerializer.Serialize(transcript, TranscriptionJsonContext.Default.TranscriptionResult) + "\n",
                _ => transcript.Text + "\n",
            };
            if (result.GetValue(output) is { } path)
            {
                using var target = new SafeOutputFile(path);
                await File.WriteAllTextAsync(target.TempPath, text, cancellationToken);
                target.Commit();
            }
            else
            {
                // JSON escapes control characters itself; text, SRT and VTT from the server are cleaned for the terminal.
                Console.Out.Write(chosen is "json" or "verbose_json" ? text : TerminalText.Clean(text));
            }
            return CliErrors.Ok;
        }));
        return command;
    }
}
