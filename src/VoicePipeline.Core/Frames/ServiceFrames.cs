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

    /// <summary>
    /// Gets whether all of the utterance's audio was sent. False when synthesis failed part way (an
    /// <see cref="ErrorFrame"/> went upstream): the audio before this frame is only part of the text.
    /// </summary>
    public bool IsComplete { get; init; } = true;
}

/// <summary>Text a text-to-speech service speaks as it is, at once, without waiting for a sentence end.</summary>
public sealed class TtsSpeakFrame : DataFrame
{
    /// <summary>Creates a frame that speaks <paramref name="text"/>.</summary>
    public TtsSpeakFrame(string text) => Text = text ?? throw new ArgumentNullException(nameof(text));

    /// <summary>Gets the text to speak.</summary>
    public string Text { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Name}(\"{Text}\")";
}

/// <summary>An LLM started streaming a response.</summary>
public sealed class LlmFullResponseStartFrame : ControlFrame;

/// <summary>An LLM finished streaming a response: text aggregators flush what they hold.</summary>
public sealed class LlmFullResponseEndFrame : ControlFrame
{
    /// <summary>
    /// Gets whether the response asked for function calls, so another response follows once they ran (unless an
    /// interruption comes first): the reply is not over yet.
    /// </summary>
    public bool FunctionCallsFollow { get; init; }
}
