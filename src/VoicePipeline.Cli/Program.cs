using System.CommandLine;
using VoicePipeline.Cli.Commands;

var root = new RootCommand("vp: real-time voice pipelines with Together AI audio services.");
foreach (var command in CommandCatalog.All())
{
    root.Subcommands.Add(command);
}

return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
