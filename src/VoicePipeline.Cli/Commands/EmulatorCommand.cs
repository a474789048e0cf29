using System.CommandLine;
using VoicePipeline.Cli.Infrastructure;
using VoicePipeline.Together.Emulator;

namespace VoicePipeline.Cli.Commands;

/// <summary><c>vp emulator --port P</c>: the Together-compatible development server, standalone.</summary>
internal static class EmulatorCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { DefaultValueFactory = _ => 0, Description = "The port (0 picks a free one)." };
        var host = new Option<string>("--host") { DefaultValueFactory = _ => "127.0.0.1", Description = "The address to listen on." };
        var apiKey = new Option<string?>("--api-key") { Description = "The key clients must present (default: any). Required to listen outside 127.0.0.0/8 and ::1." };
        var fetchFileUrls = new Option<bool>("--fetch-file-urls") { Description = "Fetch audio given as an http(s) URL to batch transcription (off by default; at most 100 MiB)." };
        var command = new Command("emulator", "Run the local Together-compatible emulator (a development tool, not a production server).") { port, host, apiKey, fetchFileUrls };
        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async () =>
        {
            await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions
            {
                Port = result.GetValue(port),
                Host = result.GetValue(host)!,
                ApiKey = result.GetValue(apiKey),
                FetchFileUrls = result.GetValue(fetchFileUrls),
            }, cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"Together emulator (development tool) listening on {emulator.BaseUrl}");
            Console.Out.Flush();
            var stop = new TaskCompletionSource();
            using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });
            using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
            await stop.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            return CliErrors.Ok;
        }));
        return command;
    }
}
