// A file through the realtime pipeline: FileTransportInput -> VadProcessor -> TogetherSttService -> console.
// dotnet run --project examples/FileTranscriber [file]
using VoicePipeline.Audio.Transports;
using VoicePipeline.Examples;
using VoicePipeline.Pipelines;
using VoicePipeline.Together.Realtime;
using VoicePipeline.Vad;
using VoicePipeline.Vad.Silero;

var (baseUrl, apiKey, emulator) = await ExampleSupport.ConnectAsync();
await using var _ = emulator;

var pipeline = new Pipeline(
    new FileTransportInput(ExampleSupport.SampleOr(args), new FileTransportInputOptions { RealTime = false }),
    new VadProcessor(new SileroVadAnalyzer(), new VadParams { StopSecs = 0.8 }),
    new TogetherSttService(new TogetherSttOptions { ApiKey = apiKey, BaseUrl = baseUrl }),
    new ConsoleSink());

var task = new PipelineTask(pipeline, new PipelineTaskOptions { AudioInSampleRate = 16_000 });
task.ErrorReceived += (_, e) => Console.Error.WriteLine($"error: {e.Message}");
await new PipelineRunner().RunAsync(task);
