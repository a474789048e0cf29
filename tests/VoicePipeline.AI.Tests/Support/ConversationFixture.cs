using Microsoft.Extensions.AI;
using VoicePipeline.Frames;
using VoicePipeline.Processors;
using VoicePipeline.Together.Chat;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Emulator;

namespace VoicePipeline.AI.Tests.Support;

/// <summary>The emulator's chat completions over a real socket, through the OpenAI IChatClient, with every request recorded.</summary>
public sealed class EmulatorChat : IAsyncDisposable
{
    private EmulatorChat(TogetherEmulator emulator)
    {
        Emulator = emulator;
        Client = new RecordingChatClient(TogetherChat.CreateChatClient(new TogetherClientOptions { ApiKey = "k", BaseUrl = emulator.BaseUrl }, "emulated/model"));
    }

    public TogetherEmulator Emulator { get; }

    public RecordingChatClient Client { get; }

    public static async Task<EmulatorChat> StartAsync() => new(await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { ApiKey = "k" }));

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Emulator.DisposeAsync();
    }
}

/// <summary>Records each request (its messages) before passing it on.</summary>
public sealed class RecordingChatClient(IChatClient inner) : DelegatingChatClient(inner)
{
    private readonly List<IReadOnlyList<ChatMessage>> _requests = [];

    public IReadOnlyList<IReadOnlyList<ChatMessage>> Requests
    {
        get { lock (_requests) return _requests.ToArray(); }
    }

    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var copy = messages.ToList();
        lock (_requests)
            _requests.Add(copy);
        return base.GetStreamingResponseAsync(copy, options, cancellationToken);
    }
}

/// <summary>
/// Stands in for an output transport whose audio played <see cref="Budget"/> words so far: the first words of each
/// reply leave at once as played <see cref="TtsTextFrame"/>s between bot started/stopped speaking frames (pushed both
/// ways); the rest of the reply (its text and its response end) is held as not yet played, and an
/// interruption drops it. A budget of 0 means the reply never began playing.
/// </summary>
public sealed class ScriptedOutput(int budget) : FrameProcessor
{
    private int _played;
    private bool _holding;
    private bool _speaking;

    public int Budget { get; } = budget;

    protected override async ValueTask OnInterruptedAsync(CancellationToken cancellationToken)
    {
        _holding = false;
        _played = 0;
        if (_speaking)
        {
            _speaking = false;
            await PushFrameAsync(new BotStoppedSpeakingFrame(), FrameDirection.Upstream, CancellationToken.None);
            await PushFrameAsync(new BotStoppedSpeakingFrame(), FrameDirection.Downstream, CancellationToken.None);
        }
    }

    protected override async ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        if (direction == FrameDirection.Upstream)
        {
            await PushFrameAsync(frame, direction, cancellationToken);
            return;
        }
        switch (frame)
        {
            case LlmFullResponseStartFrame:
                _played = 0;
                _holding = Budget == 0;
                await PushFrameAsync(frame, direction, cancellationToken);
                break;
            case TextFrame text when text.GetType() == typeof(TextFrame):
                if (_holding)
                    break;
                foreach (var word in text.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (_played == Budget)
                    {
                        _holding = true;
                        break;
                    }
                    if (!_speaking)
                    {
                        _speaking = true;
                        await PushFrameAsync(new BotStartedSpeakingFrame(), FrameDirection.Upstream, cancellationToken);
                        await PushFrameAsync(new BotStartedSpeakingFrame(), FrameDirection.Downstream, cancellationToken);
                    }
                    _played++;
                    await PushFrameAsync(new TtsTextFrame(word), FrameDirection.Downstream, cancellationToken);
                }
                break;
            case LlmFullResponseEndFrame when _holding:
                break;
            case LlmFullResponseEndFrame:
                if (_speaking)
                {
                    _speaking = false;
                    await PushFrameAsync(new BotStoppedSpeakingFrame(), FrameDirection.Upstream, cancellationToken);
                    await PushFrameAsync(new BotStoppedSpeakingFrame(), FrameDirection.Downstream, cancellationToken);
                }
                await PushFrameAsync(frame, direction, cancellationToken);
                break;
            default:
                await PushFrameAsync(frame, direction, cancellationToken);
                break;
        }
    }
}

public static class Speech
{
    public static UserStartedSpeakingFrame Started(double at = 0) => new() { Timestamp = TimeSpan.FromSeconds(at + 0.2), StartSecs = 0.2 };

    public static UserStoppedSpeakingFrame Stopped(double at = 1) => new() { Timestamp = TimeSpan.FromSeconds(at + 0.8), StopSecs = 0.8 };

    public static TranscriptionFrame Final(string text, bool finalized = true) => new(text, "user", DateTimeOffset.UtcNow, "en", finalized);
}
