namespace VoicePipeline.AI;

/// <summary>Settings of a <see cref="ChatClientLlmService"/>.</summary>
public sealed class ChatClientLlmServiceOptions
{
    /// <summary>Gets or sets the model to ask for; null leaves the chat client's default.</summary>
    public string? ModelId { get; set; }

    /// <summary>Gets or sets the system prompt that opens the conversation.</summary>
    public string? SystemPrompt { get; set; }

    /// <summary>Gets or sets the sampling temperature; null leaves the model's default.</summary>
    public float? Temperature { get; set; }

    /// <summary>Gets or sets the maximum number of tokens per answer; null leaves the model's default.</summary>
    public int? MaxOutputTokens { get; set; }

    /// <summary>Gets or sets how many messages of history (beyond the system prompt) are kept.</summary>
    public int MaxHistoryMessages { get; set; } = 64;

    /// <summary>Creates a copy of these options.</summary>
    public ChatClientLlmServiceOptions Clone() => (ChatClientLlmServiceOptions)MemberwiseClone();
}
