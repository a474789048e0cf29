using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.AI;
using VoicePipeline.AI;
using VoicePipeline.Audio;
using VoicePipeline.Audio.Transports;
using VoicePipeline.Frames;
using VoicePipeline.Pipelines;
using VoicePipeline.Processors;
using VoicePipeline.Together.Chat;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Emulator;
using VoicePipeline.Together.Realtime;
using VoicePipeline.Together.Speech;
using VoicePipeline.Transports;
using VoicePipeline.Vad;
using VoicePipeline.Vad.Silero;

namespace VoicePipeline.Benchmarks;

/// <summary>
/// Voice-agent turn latency in real time against the in-process emulator: spoken questions with silence between them
/// through file -> VAD -> STT -> user aggregator -> LLM -> TTS -> output -> assistant aggregator. A turn's latency runs
/// from the user's real end of speech (the last loud sample of the question, on the wall clock of the real-time input)
/// to the <see cref="BotStartedSpeakingFrame"/> of the reply. Framework overhead is that latency minus, in the same
/// turn: the VAD's wait (real end of speech to its <see cref="UserStoppedSpeakingFrame"/>, mostly the configured stop
/// seconds) and the emulator's own times as it measured them: STT (commit received to final transcript sent), LLM
/// (request received to end of its stream) and TTS (request received to first audio sent). What remains is the
/// framework's: the client libraries, sockets, frame hops and the output transport.
/// </summary>
internal sealed class TurnBenchmark : IHotPathBenchmark
{
    private const int InputRate = 16_000;
    private const double StopSecs = 0.8;
    private const double Gap = 4.5;
    private const int WarmUpTurns = 40;

    private static readonly string[] Questions =
    [
        "What is two plus three?",
        "Tell me about the weather please.",
        "What time is it?",
        "How far away is the moon?",
        "What is your name?",
        "Where is the nearest station?",
    ];

    public string Name => "turn";

    public async Task<int> RunAsync(bool json, string[] args)
    {
        var turns = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : Questions.Length;
        await using var emulator = await TogetherEmulator.StartAsync();

        // Warm-up: the same pipeline first answers WarmUpTurns questions as fast as it can, so the per-turn code (the
        // LLM and TTS clients, the aggregators) is measured JIT-optimized, as in a server that has answered a few dozen
        // turns; with tiered compilation, code run half a dozen times is still its first, unoptimized tier.
        var (warmUp, _) = WriteInput(emulator, WarmUpTurns, "What is two plus three?");
        try
        {
            await RunPipelineAsync(emulator, warmUp, realTime: false);
        }
        finally
        {
            File.Delete(warmUp);
        }

        // The measured input: each question, then silence; its real end is its last loud sample. A first question warms
        // up the real-time path (its timers and connections) and is not counted.
        var (input, speechEnds) = WriteInput(emulator, turns + 1, null);
        try
        {
            var requestsBefore = (Speech: emulator.SpeechRequests.Count, Chat: emulator.ChatRequests.Count, Sessions: emulator.RealtimeSessions.Count);
            var (hops, chat) = await RunPipelineAsync(emulator, input, realTime: true);

            var latencies = new List<double>();
            var overheads = new List<double>();
            var speech = emulator.SpeechRequests;
            var chats = emulator.ChatRequests.Skip(requestsBefore.Chat).ToList();
            var commits = emulator.RealtimeSessions.Skip(requestsBefore.Sessions).SelectMany(s => s.CommitDurations).ToList();
            var stops = hops.Times("stop");
            var botStarts = hops.Times("bot");
            for (var i = 1; i <= turns && i < stops.Count && i < chat.Requests.Count && i < chats.Count && i < commits.Count; i++)
            {
                // Audio time zero on the task's clock: the earliest (pushed - timestamp) over the input frames, so a first
                // frame late on a busy machine does not move the timeline; a frame is pushed once its audio was captured.
                var realEnd = hops.Origin + TimeSpan.FromSeconds(speechEnds[i]) + hops.FirstFrameDuration;
                var stop = stops[i];
                var botStart = botStarts.FirstOrDefault(t => t > stop);
                if (botStart == TimeSpan.Zero)
                    continue;
                var ttsLog = chat.Requests[i] < speech.Count ? speech[chat.Requests[i]] : null;
                var latency = (botStart - realEnd).TotalMilliseconds;
                var vadWait = (stop - realEnd).TotalMilliseconds;
                var stt = commits[i].TotalMilliseconds;
                var llm = chats[i].CompletedAfter?.TotalMilliseconds ?? 0;
                var tts = ttsLog?.FirstAudioAfter?.TotalMilliseconds ?? 0;
                latencies.Add(latency);
                overheads.Add(latency - vadWait - stt - llm - tts);
                if (!json)
                {
                    Console.WriteLine(FormattableString.Invariant($"  turn {i}: latency {latency:F1} ms = VAD stop {vadWait:F1} + STT {stt:F1} + LLM {llm:F1} + TTS {tts:F1} + framework {overheads[^1]:F1}"));
                    if (hops.Describe(i) is { } where)
                        Console.WriteLine("    pushes: " + where);
                }
            }
            if (!json)
                Console.WriteLine($"  (stops {stops.Count}, STT commits {commits.Count}, LLM requests {chats.Count}, bot starts {botStarts.Count}, warm-up turn included; {WarmUpTurns} turns answered as fast as possible before)");
            if (latencies.Count == 0)
            {
                Console.Error.WriteLine("turn: no turn was answered");
                return 1;
            }
            BenchmarkReport.Print(json, $"Turn: {latencies.Count} of {turns} spoken turns answered, real time, against the in-process emulator", [
                ("turn_latency_p50_ms", BenchmarkReport.Percentile(latencies, 50)),
                ("turn_latency_p99_ms", BenchmarkReport.Percentile(latencies, 99)),
                ("framework_overhead_p50_ms", BenchmarkReport.Percentile(overheads, 50)),
            ], $"latency includes the VAD's wait for the end of speech (stop secs {StopSecs}, counted from when its confidence fell); overhead excludes the VAD's wait (up to its stop frame) and the emulator's own STT, LLM and TTS times (goal: overhead p50 < 5 ms)");
            return 0;
        }
        finally
        {
            File.Delete(input);
        }
    }

    /// <summary>Writes <paramref name="count"/> questions (the emulator's espeak-ng voice at 16 kHz), each followed by silence; returns the file and where each question's speech really ends (seconds).</summary>
    private static (string Path, List<double> SpeechEnds) WriteInput(TogetherEmulator emulator, int count, string? first)
    {
        var samples = new List<short>();
        var speechEnds = new List<double>();
        for (var i = 0; i < count; i++)
        {
            var text = i == 0 ? first ?? "Hello, can you hear me?" : Questions[(i - 1) % Questions.Length];
            var question = MemoryMarshal.Cast<byte, short>(emulator.Synthesize(text, TogetherTtsOptions.DefaultModel, "am_adam", sampleRate: InputRate)).ToArray();
            var last = Array.FindLastIndex(question, s => Math.Abs((int)s) > 500);
            speechEnds.Add((samples.Count + last + 1) / (double)InputRate);
            samples.AddRange(question);
            samples.AddRange(new short[(int)(Gap * InputRate)]);
        }
        var path = Path.Combine(Path.GetTempPath(), $"vp-turn-{Guid.NewGuid():N}.wav");
        WavWriter.WriteFile(path, samples.ToArray(), InputRate);
        return (path, speechEnds);
    }

    /// <summary>
    /// Runs the agent's pipeline on <paramref name="input"/>; every time comes from the task's observer (no probe in the
    /// pipeline adds a hop). Fast runs hold each turn until it is answered, as <c>vp agent --fast</c> does.
    /// </summary>
    private static async Task<(HopObserver Hops, TimedChatClient Chat)> RunPipelineAsync(TogetherEmulator emulator, string input, bool realTime)
    {
        var chat = new TimedChatClient(TogetherChat.CreateChatClient(new TogetherClientOptions { ApiKey = "bench", BaseUrl = emulator.BaseUrl }), emulator);
        var context = new LlmContext("You are a helpful, brief voice assistant.");
        // A generous bound for late transcripts: on a busy machine a final a little over 1 s late would split a turn
        // and shift every later turn's match (requests and commits are matched to turns in order).
        var aggregators = context.CreateAggregators(new LlmUserAggregatorOptions { TranscriptTimeout = TimeSpan.FromSeconds(4) });
        var processors = new List<FrameProcessor>
        {
            new FileTransportInput(input, new FileTransportInputOptions { RealTime = realTime }),
            new VadProcessor(new SileroVadAnalyzer(), new VadParams { StopSecs = StopSecs }),
        };
        if (!realTime)
            processors.Add(aggregators.CreateTurnPacer());
        processors.AddRange(
        [
            new TogetherSttService(new TogetherSttOptions { ApiKey = "bench", BaseUrl = emulator.BaseUrl }),
            aggregators.User,
            new ChatClientLlmService(chat),
            new TogetherTtsService(new TogetherTtsOptions { ApiKey = "bench", BaseUrl = emulator.BaseUrl }),
            new DiscardingOutput(realTime),
            aggregators.Assistant,
        ]);
        var hops = new HopObserver();
        var taskOptions = new PipelineTaskOptions { AudioInSampleRate = InputRate, AudioOutSampleRate = 24_000 };
        taskOptions.Observers.Add(hops);
        await new PipelineRunner().RunAsync(new PipelineTask(new Pipeline(processors), taskOptions));
        chat.Dispose();
        return (hops, chat);
    }

    /// <summary>
    /// Where a turn's time goes between processors, from the task's observer (no extra hop in the pipeline): stop pushed
    /// by the VAD, final transcript by the STT, context by the user aggregator, first token by the LLM, first audio by
    /// the TTS, bot started by the output.
    /// </summary>
    private sealed class HopObserver : VoicePipeline.Observers.IFrameObserver
    {
        private readonly Lock _lock = new();
        private readonly List<(string What, TimeSpan At)> _events = [];

        /// <summary>Gets audio time zero on the task's clock: the earliest (pushed − timestamp) over the input audio frames.</summary>
        public TimeSpan Origin { get; private set; } = TimeSpan.MaxValue;

        /// <summary>Gets the duration of the first input frame: its audio was all captured when it was pushed.</summary>
        public TimeSpan FirstFrameDuration { get; private set; }

        /// <summary>The times (since the task started) of every event of one kind, in order.</summary>
        public List<TimeSpan> Times(string what)
        {
            lock (_lock)
                return _events.Where(e => e.What == what).Select(e => e.At).ToList();
        }

        public ValueTask OnFramePushedAsync(VoicePipeline.Observers.FramePushed pushed, CancellationToken cancellationToken = default)
        {
            if (pushed.Frame is InputAudioRawFrame audio && pushed.Source is FileTransportInput)
            {
                lock (_lock)
                {
                    if (Origin == TimeSpan.MaxValue)
                        FirstFrameDuration = TimeSpan.FromSeconds(audio.Audio.Length / 2.0 / audio.SampleRate / audio.Channels);
                    var origin = pushed.Timestamp - (audio.PresentationTimestamp ?? TimeSpan.Zero);
                    if (origin < Origin)
                        Origin = origin;
                }
                return ValueTask.CompletedTask;
            }
            var what = pushed.Frame switch
            {
                UserStoppedSpeakingFrame when pushed.Source is VadProcessor => "stop",
                TranscriptionFrame { Finalized: true } when pushed.Source is TogetherSttService => "final",
                LlmContextFrame => "context",
                TextFrame t when t.GetType() == typeof(TextFrame) && pushed.Source is LlmService => "token",
                TtsAudioRawFrame when pushed.Source is TogetherTtsService => "audio",
                BotStartedSpeakingFrame when pushed.Direction == FrameDirection.Downstream && pushed.Source is OutputTransport => "bot",
                _ => null,
            };
            if (what is not null)
            {
                lock (_lock)
                    _events.Add((what, pushed.Timestamp));
            }
            return ValueTask.CompletedTask;
        }

        /// <summary>The gaps between the first of each event after turn <paramref name="turn"/>'s stop, in order.</summary>
        public string? Describe(int turn)
        {
            lock (_lock)
            {
                var stops = _events.Where(e => e.What == "stop").ToList();
                if (turn >= stops.Count)
                    return null;
                var at = stops[turn].At;
                var parts = new List<string>();
                foreach (var next in new[] { "final", "context", "token", "audio", "bot" })
                {
                    var found = _events.FirstOrDefault(e => e.What == next && e.At >= at);
                    if (found.What is null)
                        break;
                    parts.Add(FormattableString.Invariant($"{next} +{(found.At - at).TotalMilliseconds:F1}"));
                    at = found.At;
                }
                return string.Join(", ", parts);
            }
        }
    }

    /// <summary>Notes, for each streamed LLM request, where its reply's TTS requests will start in the emulator's log.</summary>
    private sealed class TimedChatClient(IChatClient inner, TogetherEmulator emulator) : DelegatingChatClient(inner)
    {
        public List<int> Requests { get; } = [];

        public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            lock (Requests)
                Requests.Add(emulator.SpeechRequests.Count);
            return base.GetStreamingResponseAsync(messages, options, cancellationToken);
        }
    }

    /// <summary>Plays (in real time or as fast as it can) and discards the audio.</summary>
    private sealed class DiscardingOutput(bool realTime) : OutputTransport(new OutputTransportOptions { RealTime = realTime })
    {
        protected override ValueTask WriteAudioAsync(ReadOnlyMemory<byte> audio, int sampleRate, int channels, CancellationToken cancellationToken)
            => ValueTask.CompletedTask;
    }
}
