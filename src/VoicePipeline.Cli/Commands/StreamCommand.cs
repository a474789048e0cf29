using System.CommandLine;
using VoicePipeline.Audio;
using VoicePipeline.Audio.Transports;
using VoicePipeline.Cli.Infrastructure;
using VoicePipeline.Pipelines;
using VoicePipeline.Together.Realtime;
using VoicePipeline.Vad;
using VoicePipeline.Vad.Silero;

namespace VoicePipeline.Cli.Commands;

/// <summary><c>vp stream FILE</c>: a file through the realtime pipeline, printing interim and final transcripts.</summary>
internal static class StreamCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "An audio file (wav, mp3, m4a, webm, flac, ogg, opus, aac, ...)." };
        var json = new Option<bool>("--json") { Description = "One JSON object per line: {\"type\",\"text\",\"start\",\"end\",\"language\"}." };
        var fast = new Option<bool>("--fast") { Description = "Stream as fast as the pipeline takes it instead of in real time." };
        var baseUrl = new Option<string?>("--base-url") { Description = "The Together API base URL (or a compatible server)." };
        var apiKey = new Option<string?>("--api-key") { Description = "The API key (default: TOGETHER_API_KEY). Without one, the embedded emulator runs offline." };
        var model = new Option<string>("--model") { Description = "The transcription model.", DefaultValueFactory = _ => TogetherSttOptions.DefaultModel };
        var language = new Option<string?>("--language") { Description = "The language (ISO-639-1)." };
        var stopSecs = new Option<double>("--stop-secs") { Description = "Seconds of silence that end an utterance.", DefaultValueFactory = _ => 0.8 };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log progress to stderr." };
        var command = new Command("stream", "Transcribe a file through the realtime pipeline: file -> VAD -> Together realtime STT.")
        {
            file, json, fast, baseUrl, apiKey, model, language, stopSecs, verbose,
        };
        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async () =>
        {
            var path = result.GetValue(file)!;
            await AudioFile.ProbeAsync(path, cancellationToken).ConfigureAwait(false); // bad input fails before anything starts
            var vadParams = new VadParams { StopSecs = result.GetValue(stopSecs) }.Validate();
            await using var endpoint = await TogetherEndpoint.ResolveAsync(result.GetValue(apiKey), result.GetValue(baseUrl), cancellationToken: cancellationToken).ConfigureAwait(false);
            using var logging = CliLogging.Create(result.GetValue(verbose));

            var printer = new TranscriptPrinter(Console.Out, result.GetValue(json), !Console.IsOutputRedirected);
            var pipeline = new Pipeline(
                new FileTransportInput(path, new FileTransportInputOptions { RealTime = !result.GetValue(fast) }),
                new VadProcessor(new SileroVadAnalyzer(), vadParams),
                new TogetherSttService(new TogetherSttOptions
                {
                    ApiKey = endpoint.ApiKey,
                    BaseUrl = endpoint.BaseUrl,
                    Model = result.GetValue(model)!,
                    Language = result.GetValue(language),
                }),
                printer);
            var task = new PipelineTask(pipeline, new PipelineTaskOptions { AudioInSampleRate = 16_000, LoggerFactory = logging });
            task.ErrorReceived += (_, error) => Console.Error.WriteLine($"vp: {(error.Fatal ? "error" : "warning")}: {TerminalText.CleanLine(error.Message)}");

            var completion = await new PipelineRunner(loggerFactory: logging).RunAsync(task, cancellationToken).ConfigureAwait(false);
            if (task.FatalError is not null)
                return CliErrors.Failed;
            return completion == PipelineCompletion.Ended ? CliErrors.Ok : CliErrors.Failed;
        }));
        return command;
    }
}
