namespace VoicePipeline.Frames;

/// <summary>A text-to-speech service started speaking an utterance.</summary>
public sealed class TtsStartedFrame : ControlFrame
{
    /// <summary>Gets the id of the synthesis context, when the service has one.</summary>
    public string? ContextId { get; init; }
}

/// <summary>A text-to-speech service finished speaking an utterance.</summary>
public sealed class TtsStoppedFrame : ControlFrame
{
    /// <summary>Gets the id of the synthesis context, when the service has one.</summary>
    public string? ContextId { get; init; }
}

/// <summary>An LLM started streaming a response.</summary>
public sealed class LlmFullResponseStartFrame : ControlFrame;

/// <summary>An LLM finished streaming a response: text aggregators flush what they hold.</summary>
public sealed class LlmFullResponseEndFrame : ControlFrame;
