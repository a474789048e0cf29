using System.CommandLine;
using VoicePipeline.Cli.Commands;

var root = new RootCommand("vp: real-time voice pipelines with Together AI audio services.");
foreach (var command in CommandCatalog.All())
{
    root.Subcommands.Add(command);
}

// Ctrl+C and SIGTERM belong to the pipeline runner, which cancels gracefully and forces on a second signal.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }).ConfigureAwait(false);
