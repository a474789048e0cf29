// A file through the realtime pipeline: FileTransportInput -> VadProcessor -> TogetherSttService -> console.
// dotnet run --project examples/FileTranscriber [file]
using VoicePipeline.Audio.Transports;
using VoicePipeline.Examples;
using VoicePipeline.Pipelines;
using VoicePipeline.Vad;

await using var services = await ExampleSupport.StartAsync(); // the key (or the offline emulator), set once

var pipeline = new Pipeline(
    new FileTransportInput(ExampleSupport.SampleOr(args), new FileTransportInputOptions { RealTime = false }),
    services.Vad.CreateProcessor(new VadParams { StopSecs = 0.8 }),
    services.Together.CreateSttService(),
    new ConsoleSink());

var task = services.Tasks.Create(pipeline, o => o.AudioInSampleRate = 16_000);
task.ErrorReceived += (_, e) => Console.Error.WriteLine($"error: {e.Message}");
await services.Tasks.CreateRunner().RunAsync(task);
