using Microsoft.Extensions.Logging;

namespace VoicePipeline.Processors;

internal static partial class ProcessorLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Error, Message = "{Processor} failed processing {Frame}")]
    public static partial void ProcessingFailed(ILogger logger, Exception exception, string processor, string frame);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "{Processor} did not stop within {Timeout}; abandoning it")]
    public static partial void Stuck(ILogger logger, string processor, TimeSpan timeout);

    [LoggerMessage(EventId = 102, Level = LogLevel.Debug, Message = "{Processor} interrupted: in-flight work cancelled, queued interruptible frames dropped")]
    public static partial void Interrupted(ILogger logger, string processor);

    [LoggerMessage(EventId = 103, Level = LogLevel.Trace, Message = "{Processor} dropped {Frame}: no processor linked {Direction}")]
    public static partial void NoTarget(ILogger logger, string processor, string frame, Frames.FrameDirection direction);
}
