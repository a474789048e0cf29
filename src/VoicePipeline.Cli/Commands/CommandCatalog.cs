using System.CommandLine;

namespace VoicePipeline.Cli.Commands;

/// <summary>Every <c>vp</c> subcommand, in the order <c>--help</c> lists them.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        // One line per command; each command lives in its own file in this folder.
        yield return StreamCommand.Create();
        yield return AgentCommand.Create();
        yield return TranscribeCommand.CreateTranscribe();
        yield return TranscribeCommand.CreateTranslate();
        yield return SpeakCommand.CreateSpeak();
        yield return SpeakCommand.CreateVoices();
        yield return VadCommand.Create();
        yield return InfoCommand.Create();
        yield return ConvertCommand.Create();
        yield return EmulatorCommand.Create();
        yield return ServeCommand.Create();
    }
}
