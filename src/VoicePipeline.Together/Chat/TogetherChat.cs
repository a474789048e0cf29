using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using OpenAI;
using VoicePipeline.Together.Client;

namespace VoicePipeline.Together.Chat;

/// <summary>
/// Together's chat completions through Microsoft.Extensions.AI: Together speaks the OpenAI protocol, so the OpenAI
/// client pointed at the Together base URL is the <see cref="IChatClient"/>.
/// </summary>
public static class TogetherChat
{
    /// <summary>A fast, widely available Together chat model.</summary>
    public const string DefaultModel = "meta-llama/Llama-3.3-70B-Instruct-Turbo";

    /// <summary>Creates an <see cref="IChatClient"/> for <paramref name="model"/> on the Together API (or a compatible server).</summary>
    /// <exception cref="ArgumentException">No API key is set, or a setting is malformed (the message names it).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range (the message names it).</exception>
    public static IChatClient CreateChatClient(TogetherClientOptions options, string model = DefaultModel)
    {
        options = TogetherClientOptions.ValidatedCopy(options, nameof(options));
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        // The OpenAI client retries with its own backoff; it honours MaxRetries at least.
        var client = new OpenAIClient(new ApiKeyCredential(options.ApiKey!), new OpenAIClientOptions
        {
            Endpoint = options.BaseUrl,
            RetryPolicy = new ClientRetryPolicy(options.MaxRetries),
            // Per attempt, and between the reads of a streamed answer: a server that stops streaming is an error, not a hang.
            NetworkTimeout = options.RequestTimeout,
        });
        return client.GetChatClient(model).AsIChatClient();
    }
}
