#pragma warning disable CS0618 // VadProcessor.InterruptOnSpeech: this fixture keeps barge-in at the VAD, as the clients it serves expect
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using VoicePipeline.AI;
using VoicePipeline.Pipelines;
using VoicePipeline.Processors;
using VoicePipeline.Together.Chat;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Emulator;
using VoicePipeline.Together.Realtime;
using VoicePipeline.Together.Speech;
using VoicePipeline.Vad;
using VoicePipeline.Vad.Silero;

namespace VoicePipeline.Transports.WebSockets.Tests;

/// <summary>
/// The voice agent the client tests talk to, on the in-process emulator: the session's input, an optional processor
/// after it (RTVI), Silero VAD with barge-in, Together STT, an LLM over the emulator's chat completions, Together TTS and
/// the session's output.
/// </summary>
internal sealed class EmulatedVoiceAgent : IAsyncDisposable
{
    /// <summary>The emulator's PocketSphinx answers slowly on a busy two-core machine (Chromium, other test assemblies).</summary>
    private static readonly TimeSpan s_loadedMachine = TimeSpan.FromSeconds(30);

    private readonly TogetherEmulator _emulator;
    private readonly IChatClient _chat;

    private EmulatedVoiceAgent(TogetherEmulator emulator)
    {
        _emulator = emulator;
        _chat = TogetherChat.CreateChatClient(new TogetherClientOptions { ApiKey = "test", BaseUrl = emulator.BaseUrl });
    }

    public static async Task<EmulatedVoiceAgent> StartAsync() => new(await TogetherEmulator.StartAsync());

    /// <summary>Runs one session's pipeline until it ends.</summary>
    public async Task RunAsync(WebSocketSession session, FrameProcessor? afterInput = null, Action<PipelineTaskOptions>? configure = null, ILoggerFactory? loggerFactory = null)
    {
        FrameProcessor[] head = afterInput is null ? [session.Input] : [session.Input, afterInput];
        var pipeline = new Pipeline([
            .. head,
            new VadProcessor(new SileroVadAnalyzer(), new VadParams { StopSecs = 0.5 }) { InterruptOnSpeech = true },
            new TogetherSttService(new TogetherSttOptions { ApiKey = "test", BaseUrl = _emulator.BaseUrl, SessionTimeout = s_loadedMachine, FinalTranscriptTimeout = s_loadedMachine }),
            new ChatClientLlmService(_chat, new ChatClientLlmServiceOptions { SystemPrompt = "You are a brief voice assistant." }),
            new TogetherTtsService(new TogetherTtsOptions { ApiKey = "test", BaseUrl = _emulator.BaseUrl, Voice = "af_heart" }),
            session.Output]);
        var options = new PipelineTaskOptions { AudioInSampleRate = 16_000, AudioOutSampleRate = 24_000 };
        if (loggerFactory is not null)
            options.LoggerFactory = loggerFactory;
        configure?.Invoke(options);
        await using var task = new PipelineTask(pipeline, options);
        await task.RunAsync(session.Stopping);
    }

    public async ValueTask DisposeAsync()
    {
        _chat.Dispose();
        await _emulator.DisposeAsync();
    }
}
