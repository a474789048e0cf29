using System.Text;
using Microsoft.Extensions.AI;
using VoicePipeline.Frames;
using VoicePipeline.Metrics;
using VoicePipeline.Processors;

namespace VoicePipeline.AI;

/// <summary>
/// Answers the user with any <see cref="IChatClient"/> (Together's OpenAI-compatible endpoint, a local model, a fake):
/// each final <see cref="TranscriptionFrame"/> becomes a user message, and the streamed answer leaves as
/// <see cref="LlmFullResponseStartFrame"/>, <see cref="TextFrame"/>s and <see cref="LlmFullResponseEndFrame"/>.
/// An interruption cancels the stream; what was said so far stays in the history.
/// </summary>
public sealed class ChatClientLlmService : FrameProcessor
{
    private readonly IChatClient _client;
    private readonly ChatClientLlmServiceOptions _options;
    private readonly List<ChatMessage> _history = [];

    /// <summary>Creates the service.</summary>
    public ChatClientLlmService(IChatClient client, ChatClientLlmServiceOptions? options = null, string? name = null)
        : base(name)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _options = options?.Clone() ?? new ChatClientLlmServiceOptions();
        MetricsModel = _options.ModelId;
    }

    /// <summary>Gets a copy of the conversation so far (without the system prompt).</summary>
    public IReadOnlyList<ChatMessage> History
    {
        get
        {
            lock (_history)
                return _history.ToArray();
        }
    }

    /// <inheritdoc />
    protected override async ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        switch (frame)
        {
            case TranscriptionFrame { Finalized: true } transcription when direction == FrameDirection.Downstream:
                await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
                if (!string.IsNullOrWhiteSpace(transcription.Text))
                {
                    AddToHistory(new ChatMessage(ChatRole.User, transcription.Text));
                    await RespondAsync(cancellationToken).ConfigureAwait(false);
                }
                break;
            case LlmUpdateSettingsFrame update:
                _options.ModelId = update.Model ?? _options.ModelId;
                _options.Temperature = update.Temperature is { } t ? (float)t : _options.Temperature;
                _options.MaxOutputTokens = update.MaxTokens ?? _options.MaxOutputTokens;
                MetricsModel = _options.ModelId;
                break;
            default:
                await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    private async Task RespondAsync(CancellationToken cancellationToken)
    {
        var messages = new List<ChatMessage>();
        if (_options.SystemPrompt is { Length: > 0 } system)
            messages.Add(new ChatMessage(ChatRole.System, system));
        messages.AddRange(History);
        var chatOptions = new ChatOptions
        {
            ModelId = _options.ModelId,
            Temperature = _options.Temperature,
            MaxOutputTokens = _options.MaxOutputTokens,
        };

        var answer = new StringBuilder();
        await PushFrameAsync(new LlmFullResponseStartFrame(), FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
        StartTtfbMetrics();
        StartProcessingMetrics();
        try
        {
            await foreach (var update in _client.GetStreamingResponseAsync(messages, chatOptions, cancellationToken).ConfigureAwait(false))
            {
                await StopTtfbMetricsAsync(cancellationToken).ConfigureAwait(false);
                if (update.Contents.OfType<UsageContent>().FirstOrDefault() is { } usage)
                {
                    await ReportUsageAsync(new UsageMetricsData(Name, _options.ModelId)
                    {
                        PromptTokens = (int?)usage.Details.InputTokenCount,
                        CompletionTokens = (int?)usage.Details.OutputTokenCount,
                    }, cancellationToken).ConfigureAwait(false);
                }
                if (!string.IsNullOrEmpty(update.Text))
                {
                    answer.Append(update.Text);
                    await PushFrameAsync(new TextFrame(update.Text), FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
                }
            }
            await StopProcessingMetricsAsync(cancellationToken).ConfigureAwait(false);
            await PushFrameAsync(new LlmFullResponseEndFrame(), FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await PushErrorAsync($"The LLM failed to answer: {exception.Message}", exception, ErrorCategory.Server, cancellationToken: CancellationToken.None).ConfigureAwait(false);
            await PushFrameAsync(new LlmFullResponseEndFrame(), FrameDirection.Downstream, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            // Interrupted or not, what the assistant already said belongs to the conversation.
            if (answer.Length > 0)
                AddToHistory(new ChatMessage(ChatRole.Assistant, answer.ToString()));
        }
    }

    private void AddToHistory(ChatMessage message)
    {
        lock (_history)
        {
            _history.Add(message);
            if (_history.Count > _options.MaxHistoryMessages)
                _history.RemoveRange(0, _history.Count - _options.MaxHistoryMessages);
        }
    }
}
