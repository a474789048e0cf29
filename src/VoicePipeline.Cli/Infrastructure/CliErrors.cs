using VoicePipeline.Audio;
using VoicePipeline.PocketSphinx;
using VoicePipeline.Together.Client;

namespace VoicePipeline.Cli.Infrastructure;

/// <summary>Exit codes and the one-line error reporting every command shares: no stack traces, ever.</summary>
internal static class CliErrors
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int BadInput = 2;
    public const int Internal = 70;

    /// <summary>Runs a command body, turning known failures into one line on stderr and an exit code.</summary>
    public static async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (AudioFormatException exception)
        {
            return Report(exception.Message, BadInput);
        }
        catch (PocketSphinxException exception)
        {
            return Report(exception.Message, Failed);
        }
        catch (TogetherApiException exception)
        {
            return Report(exception.Message, Failed);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException or FileNotFoundException)
        {
            return Report(exception.Message, BadInput);
        }
        catch (OperationCanceledException)
        {
            return Report("cancelled", Failed);
        }
#pragma warning disable CA1031 // The last line of defence: a command never dumps a stack trace.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            return Report($"unexpected error ({exception.GetType().Name}): {exception.Message}", Internal);
        }
    }

    /// <summary>Writes "vp: message" on stderr and returns <paramref name="exitCode"/>.</summary>
    public static int Report(string message, int exitCode)
    {
        Console.Error.WriteLine("vp: " + TerminalText.CleanLine(message)); // messages may quote a server
        return exitCode;
    }
}
