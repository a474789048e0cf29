using Microsoft.Extensions.AI;
using VoicePipeline.Frames;
using VoicePipeline.Services;

namespace VoicePipeline.AI;

/// <summary>
/// An <see cref="LlmService"/> over any <see cref="IChatClient"/> (Together's OpenAI-compatible endpoint, a local model,
/// a fake). With a context aggregator pair it answers one <see cref="Frames.LlmContextFrame"/> per user turn and runs
/// the context's functions; alone, each final <see cref="Frames.TranscriptionFrame"/> becomes a user message of its own
/// <see cref="History"/> and is answered (what was said so far stays in the history when interrupted).
/// </summary>
public sealed class ChatClientLlmService : LlmService
{
    private readonly IChatClient _client;
    private readonly string? _clientModel;

    /// <summary>Creates the service.</summary>
    public ChatClientLlmService(IChatClient client, ChatClientLlmServiceOptions? options = null, string? name = null)
        : base(ToSettings(options), options?.SystemPrompt, name)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        // Without a model of its own the service asks the client's: metrics and spans name the model that answers.
        _clientModel = client.GetService<ChatClientMetadata>()?.DefaultModelId;
        MetricsModel ??= _clientModel;
        MaxOwnHistoryMessages = (options ?? new ChatClientLlmServiceOptions()).MaxHistoryMessages;
    }

    /// <summary>Gets a copy of the conversation so far (without the system prompt).</summary>
    public IReadOnlyList<ChatMessage> History => Context.Messages;

    /// <inheritdoc />
    protected override IReadOnlyList<SettingChange> ApplySettings(LlmUpdateSettingsFrame update)
    {
        var changes = base.ApplySettings(update);
        MetricsModel ??= _clientModel;
        return changes;
    }

    private static LlmSettings ToSettings(ChatClientLlmServiceOptions? options)
        => new() { Model = options?.ModelId, Temperature = options?.Temperature, MaxTokens = options?.MaxOutputTokens };

    /// <inheritdoc />
    protected override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IReadOnlyList<ChatMessage> messages, ChatOptions options, CancellationToken cancellationToken)
        => _client.GetStreamingResponseAsync(messages, options, cancellationToken);
}
