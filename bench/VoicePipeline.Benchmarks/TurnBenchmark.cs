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
/// seconds), the time the turn still waited on the STT's final transcript after that stop, the LLM's time (request to
/// end of its stream, measured around the chat client) and the emulator's own time to the first TTS audio.
/// </summary>
internal sealed class TurnBenchmark : IHotPathBenchmark
{
    private const int InputRate = 16_000;
    private const double StopSecs = 0.8;
    private const double Gap = 4.5;

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

        // The input: each question (the emulator's espeak-ng voice at 16 kHz), then silence; its real end is its last loud sample.
        var samples = new List<short>();
        var speechEnds = new List<double>();
        for (var i = 0; i < turns; i++)
        {
            var question = MemoryMarshal.Cast<byte, short>(emulator.Synthesize(Questions[i % Questions.Length], TogetherTtsOptions.DefaultModel, "am_adam", sampleRate: InputRate)).ToArray();
            var last = Array.FindLastIndex(question, s => Math.Abs((int)s) > 500);
            speechEnds.Add((samples.Count + last + 1) / (double)InputRate);
            samples.AddRange(question);
            samples.AddRange(new short[(int)(Gap * InputRate)]);
        }
        var input = Path.Combine(Path.GetTempPath(), $"vp-turn-{Guid.NewGuid():N}.wav");
        WavWriter.WriteFile(input, samples.ToArray(), InputRate);

        try
        {
            var probe = new Probe();
            using var chat = new TimedChatClient(TogetherChat.CreateChatClient(new TogetherClientOptions { ApiKey = "bench", BaseUrl = emulator.BaseUrl }), emulator);
            var context = new LlmContext("You are a helpful, brief voice assistant.");
            var aggregators = context.CreateAggregators();
            var pipeline = new Pipeline(
                new FileTransportInput(input, new FileTransportInputOptions { RealTime = true }),
                probe.Input,
                new VadProcessor(new SileroVadAnalyzer(), new VadParams { StopSecs = StopSecs }),
                new TogetherSttService(new TogetherSttOptions { ApiKey = "bench", BaseUrl = emulator.BaseUrl }),
                probe.BeforeUser,
                aggregators.User,
                new ChatClientLlmService(chat),
                new TogetherTtsService(new TogetherTtsOptions { ApiKey = "bench", BaseUrl = emulator.BaseUrl }),
                new DiscardingOutput(),
                probe.AfterOutput,
                aggregators.Assistant);
            var task = new PipelineTask(pipeline, new PipelineTaskOptions { AudioInSampleRate = InputRate, AudioOutSampleRate = 24_000 });
            await new PipelineRunner().RunAsync(task);

            var latencies = new List<double>();
            var overheads = new List<double>();
            var speech = emulator.SpeechRequests;
            for (var i = 0; i < turns && i < probe.Stops.Count && i < chat.Requests.Count; i++)
            {
                var realEnd = probe.FirstAudio + Stopwatch.Frequency * (speechEnds[i] - probe.FirstFrameSeconds);
                var stop = probe.Stops[i];
                var botStart = probe.BotStarts.FirstOrDefault(t => t > stop);
                if (botStart == 0)
                    continue;
                var finalAfterStop = probe.Finals.Where(t => t > stop && t < chat.Requests[i].Start).DefaultIfEmpty(stop).Max();
                var ttsLog = chat.Requests[i].SpeechLogIndex < speech.Count ? speech[chat.Requests[i].SpeechLogIndex] : null;
                var latency = Ms(botStart - realEnd);
                var vadWait = Ms(stop - realEnd);
                var sttWait = Ms(finalAfterStop - stop);
                var llm = Ms(chat.Requests[i].End - chat.Requests[i].Start);
                var tts = ttsLog?.FirstAudioAfter?.TotalMilliseconds ?? 0;
                latencies.Add(latency);
                overheads.Add(latency - vadWait - sttWait - llm - tts);
                if (!json)
                    Console.WriteLine(FormattableString.Invariant($"  turn {i + 1}: latency {latency:F1} ms = VAD stop {vadWait:F1} + STT wait {sttWait:F1} + LLM {llm:F1} + TTS {tts:F1} + framework {overheads[^1]:F1}"));
            }
            if (latencies.Count == 0)
            {
                Console.Error.WriteLine("turn: no turn was answered");
                return 1;
            }
            BenchmarkReport.Print(json, $"Turn: {latencies.Count} of {turns} spoken turns answered, real time, against the in-process emulator", [
                ("turn_latency_p50_ms", Percentile(latencies, 50)),
                ("turn_latency_p99_ms", Percentile(latencies, 99)),
                ("framework_overhead_p50_ms", Percentile(overheads, 50)),
            ], $"latency includes the VAD's wait for the end of speech (stop secs {StopSecs}, counted from when its confidence fell); overhead excludes the VAD's wait, STT, LLM and the emulator's TTS time (goal: overhead p50 < 5 ms)");
            return 0;
        }
        finally
        {
            File.Delete(input);
        }
    }

    private static double Ms(double ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    private static double Percentile(List<double> values, double percentile)
    {
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Clamp(Math.Ceiling(percentile / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    /// <summary>Wall-clock timestamps of the frames that bound a turn.</summary>
    private sealed class Probe
    {
        private readonly Lock _lock = new();

        public Probe()
        {
            Input = new Tap(OnInput);
            BeforeUser = new Tap(OnBeforeUser);
            AfterOutput = new Tap(OnAfterOutput);
        }

        public FrameProcessor Input { get; }

        public FrameProcessor BeforeUser { get; }

        public FrameProcessor AfterOutput { get; }

        public long FirstAudio { get; private set; }

        /// <summary>The duration of the first input frame: its audio was all captured when it was sent.</summary>
        public double FirstFrameSeconds { get; private set; }

        public List<long> Stops { get; } = [];

        public List<long> Finals { get; } = [];

        public List<long> BotStarts { get; } = [];

        private void OnInput(Frame frame, FrameDirection direction, long now)
        {
            if (FirstAudio == 0 && frame is InputAudioRawFrame audio)
            {
                FirstAudio = now;
                FirstFrameSeconds = audio.Audio.Length / 2.0 / audio.SampleRate / audio.Channels;
            }
        }

        private void OnBeforeUser(Frame frame, FrameDirection direction, long now)
        {
            lock (_lock)
            {
                if (frame is UserStoppedSpeakingFrame)
                    Stops.Add(now);
                else if (frame is TranscriptionFrame)
                    Finals.Add(now);
            }
        }

        private void OnAfterOutput(Frame frame, FrameDirection direction, long now)
        {
            if (frame is BotStartedSpeakingFrame && direction == FrameDirection.Downstream)
            {
                lock (_lock)
                    BotStarts.Add(now);
            }
        }

        private sealed class Tap(Action<Frame, FrameDirection, long> record) : FrameProcessor
        {
            protected override ValueTask ProcessSystemFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
            {
                record(frame, direction, Stopwatch.GetTimestamp());
                return base.ProcessSystemFrameAsync(frame, direction, cancellationToken);
            }

            protected override ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
            {
                record(frame, direction, Stopwatch.GetTimestamp());
                return PushFrameAsync(frame, direction, cancellationToken);
            }
        }
    }

    /// <summary>Times each streamed LLM request from its start to the end of its stream; notes where its TTS log will be.</summary>
    private sealed class TimedChatClient(IChatClient inner, TogetherEmulator emulator) : DelegatingChatClient(inner)
    {
        public List<(long Start, long End, int SpeechLogIndex)> Requests { get; } = [];

        public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
            [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var start = Stopwatch.GetTimestamp();
            var speechLogIndex = emulator.SpeechRequests.Count;
            await foreach (var update in base.GetStreamingResponseAsync(messages, options, cancellationToken))
                yield return update;
            lock (Requests)
                Requests.Add((start, Stopwatch.GetTimestamp(), speechLogIndex));
        }
    }

    /// <summary>Plays in real time and discards the audio.</summary>
    private sealed class DiscardingOutput() : OutputTransport(new OutputTransportOptions { RealTime = true })
    {
        protected override ValueTask WriteAudioAsync(ReadOnlyMemory<byte> audio, int sampleRate, int channels, CancellationToken cancellationToken)
            => ValueTask.CompletedTask;
    }
}
