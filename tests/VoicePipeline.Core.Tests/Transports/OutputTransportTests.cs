using Microsoft.Extensions.Time.Testing;
using VoicePipeline.Frames;
using VoicePipeline.Testing;
using VoicePipeline.Tests.Shared;
using VoicePipeline.Transports;

namespace VoicePipeline.Core.Tests.Transports;

public class OutputTransportTests
{
    private const int Rate = 16_000;
    private static readonly TimeSpan s_chunk = TimeSpan.FromMilliseconds(20);
    private static readonly short[] s_speech = TestAudio.Speak("The quick brown fox jumps over the lazy dog, twice over.", Rate);

    [Fact]
    public async Task Bot_speaking_frames_bracket_the_audio_played_and_the_stop_waits_for_the_last_chunk()
    {
        var time = new FakeTimeProvider();
        var output = new RecordingOutput(time, new OutputTransportOptions { BufferDuration = TimeSpan.FromSeconds(3) });
        await using var harness = await StartAsync(output, time);

        // One second of speech in uneven frames (the second ends on half a chunk), then the TTS says it is done.
        await harness.SendAsync(new TtsStartedFrame { ContextId = "a" });
        await harness.SendAsync(Audio(0.30, "a", 0.0));
        await harness.SendAsync(Audio(0.45, "a", 0.30));
        await harness.SendAsync(Audio(0.25, "a", 0.75));
        await harness.SendAsync(new TtsStoppedFrame { ContextId = "a" });

        await output.PlayInStepsAsync(harness, time, until: () => output.Seen<BotStoppedSpeakingFrame>(), audioToTake: TimeSpan.FromSeconds(1));

        var started = output.FirstOut<BotStartedSpeakingFrame>();
        var stopped = output.FirstOut<BotStoppedSpeakingFrame>();
        started.At.Should().Be(TimeSpan.Zero, "the first chunk plays at once");
        started.WrittenBefore.Should().Be(TimeSpan.Zero, "the bot starts speaking as its first chunk plays");
        output.Written.Should().BeCloseTo(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(1));
        stopped.At.Should().BeCloseTo(TimeSpan.FromSeconds(1), s_chunk, "the bot stops when the last chunk has played, not when it was handed over");
        output.Writes.Should().OnlyContain(w => w.At >= w.Position && w.At - w.Position < s_chunk, "each chunk plays at its place in real time");
        output.Writes.Max(w => w.Duration).Should().Be(s_chunk);
        harness.Upstream.OfType<BotStartedSpeakingFrame>().Should().ContainSingle();
        (await harness.WaitForUpstreamAsync<BotStoppedSpeakingFrame>()).Should().NotBeNull();
        var order = output.Out.Select(o => o.Frame.GetType().Name).Where(n => n.StartsWith("Bot", StringComparison.Ordinal) || n == nameof(TtsStoppedFrame)).ToList();
        order.Should().Equal([nameof(BotStartedSpeakingFrame), nameof(BotStoppedSpeakingFrame), nameof(TtsStoppedFrame)], "the stop comes with the TtsStoppedFrame, once its audio has played");
        await EndAsync(harness, time);
    }

    [Fact]
    public async Task Without_a_tts_stop_the_bot_stops_after_the_configured_silence()
    {
        var time = new FakeTimeProvider();
        var output = new RecordingOutput(time, new OutputTransportOptions { BotStopDelay = TimeSpan.FromSeconds(0.35) });
        await using var harness = await StartAsync(output, time);

        await harness.SendAsync(new OutputAudioRawFrame(Slice(0, 0.5), Rate));
        await output.PlayInStepsAsync(harness, time, until: () => output.Seen<BotStoppedSpeakingFrame>(), audioToTake: TimeSpan.FromSeconds(0.5));

        output.FirstOut<BotStartedSpeakingFrame>().At.Should().Be(TimeSpan.Zero);
        output.FirstOut<BotStoppedSpeakingFrame>().At.Should().BeCloseTo(TimeSpan.FromSeconds(0.85), s_chunk, "0.5 s of audio, then 0.35 s of nothing");
        output.Out.Should().Contain(o => o.Frame is OutputAudioRawFrame && o.At >= TimeSpan.FromSeconds(0.48), "the audio frame goes on once all of it has played");
        await EndAsync(harness, time);
    }

    [Fact]
    public async Task Timed_words_and_untimed_sentences_are_released_as_their_audio_plays()
    {
        var time = new FakeTimeProvider();
        var output = new RecordingOutput(time, new OutputTransportOptions { BufferDuration = TimeSpan.FromSeconds(3) });
        await using var harness = await StartAsync(output, time);

        // Context "a": words with positions (sent before their audio, as the TTS does), one second of audio.
        await harness.SendAsync(new TtsStartedFrame { ContextId = "a" });
        await harness.SendAsync(Word("The", "a", 0.0));
        await harness.SendAsync(Word("quick", "a", 0.31));
        await harness.SendAsync(Word("fox", "a", 0.62));
        await harness.SendAsync(Audio(0.5, "a", 0.0));
        await harness.SendAsync(Audio(0.5, "a", 0.5));
        // Context "b": a sentence without word timings, after its 0.6 s of audio: spread over that audio.
        await harness.SendAsync(Audio(0.6, "b", 1.0));
        await harness.SendAsync(new TtsTextFrame("jumps over dogs") { ContextId = "b" });
        await harness.SendAsync(new TtsStoppedFrame { ContextId = "b" });
        await harness.SendAsync(new LlmFullResponseEndFrame());

        await output.PlayInStepsAsync(harness, time, until: () => output.Seen<LlmFullResponseEndFrame>(), audioToTake: TimeSpan.FromSeconds(1.6), framesToTake: 10);

        var words = output.Out.Where(o => o.Frame is TtsTextFrame).ToList();
        words.Select(w => ((TtsTextFrame)w.Frame).Text).Should().Equal("The", "quick", "fox", "jumps", "over", "dogs");
        var expected = new[] { 0.0, 0.31, 0.62, 1.0, 1.0 + 0.6 * 6 / 15, 1.0 + 0.6 * 11 / 15 };
        for (var i = 0; i < words.Count; i++)
        {
            var due = TimeSpan.FromSeconds(expected[i]);
            words[i].At.Should().BeCloseTo(due, s_chunk, $"\"{((TtsTextFrame)words[i].Frame).Text}\" is released when its audio plays");
        }
        ((TtsTextFrame)words[4].Frame).AudioStart.Should().BeCloseTo(TimeSpan.FromSeconds(0.6 * 6 / 15), TimeSpan.FromMilliseconds(1), "a spread word says where it falls in its sentence");
        output.Out.FindIndex(o => o.Frame is LlmFullResponseEndFrame).Should().BeGreaterThan(output.Out.FindIndex(o => o.Frame is TtsTextFrame { Text: "dogs" }),
            "what follows the audio leaves after its words");
        await EndAsync(harness, time);
    }

    [Fact]
    public async Task An_interruption_drops_the_queued_audio_and_unheard_words_at_once()
    {
        var time = new FakeTimeProvider();
        var output = new RecordingOutput(time, new OutputTransportOptions { BufferDuration = TimeSpan.FromSeconds(3) });
        await using var harness = await StartAsync(output, time);

        await harness.SendAsync(Word("heard", "a", 0.05));
        await harness.SendAsync(Word("unheard", "a", 1.5));
        await harness.SendAsync(Audio(2.0, "a", 0.0));
        await harness.SendAsync(new TtsStoppedFrame { ContextId = "a" });
        await output.PlayInStepsAsync(harness, time, until: () => time.GetElapsedTime(output.Origin) >= TimeSpan.FromSeconds(0.2), audioToTake: TimeSpan.FromSeconds(2));

        await harness.SendAsync(new InterruptionFrame());
        await harness.WaitForDownstreamAsync<InterruptionFrame>();

        output.QueuedAudio.Should().Be(TimeSpan.Zero, "the queue is dropped when the interruption arrives, not as the clock moves");
        output.Interruptions.Should().Be(1, "the client is told to stop what it holds");
        var stopped = await harness.WaitForDownstreamAsync<BotStoppedSpeakingFrame>();
        harness.Downstream.ToList().IndexOf(stopped).Should().BeGreaterThan(harness.Downstream.ToList().FindIndex(f => f is InterruptionFrame));
        var writtenAtInterruption = output.Written;
        writtenAtInterruption.Should().BeLessThanOrEqualTo(TimeSpan.FromSeconds(0.24));

        time.Advance(TimeSpan.FromSeconds(3));
        await harness.SendAsync(new TextFrame("after")); // passes through the playout loop: everything before it is settled
        await harness.WaitForDownstreamAsync<TextFrame>(f => f.Text == "after");
        output.Written.Should().Be(writtenAtInterruption, "nothing of the interrupted audio plays later");
        harness.Downstream.OfType<TtsTextFrame>().Select(w => w.Text).Should().Equal("heard");
        harness.Downstream.Should().NotContain(f => f is TtsStoppedFrame || f is OutputAudioRawFrame, "frames queued behind the dropped audio are dropped with it");

        await harness.SendAsync(Audio(0.1, "b", 0.0)); // the transport plays again after an interruption
        await harness.WaitForDownstreamAsync<BotStartedSpeakingFrame>(f => harness.Downstream.OfType<BotStartedSpeakingFrame>().Count() == 2);
        await EndAsync(harness, time);
    }

    [Fact]
    public async Task The_buffer_is_bounded_in_seconds_of_audio()
    {
        var time = new FakeTimeProvider();
        var output = new RecordingOutput(time, new OutputTransportOptions { BufferDuration = TimeSpan.FromMilliseconds(100) });
        await using var harness = await StartAsync(output, time);

        await harness.SendAsync(new OutputAudioRawFrame(Slice(0, 1.0), Rate));
        var most = TimeSpan.Zero;
        await output.PlayInStepsAsync(harness, time, until: () =>
        {
            most = output.QueuedAudio > most ? output.QueuedAudio : most;
            return output.Written >= TimeSpan.FromSeconds(1);
        }, audioToTake: TimeSpan.FromMilliseconds(100), steady: true);

        most.Should().BeGreaterThan(TimeSpan.Zero).And.BeLessThan(TimeSpan.FromMilliseconds(100) + s_chunk);
        TestAudio.FromBytes(output.Bytes.ToArray()).Should().Equal(s_speech.AsSpan(0, Rate).ToArray(), "every sample plays, in order");
        await EndAsync(harness, time);
    }

    [Fact]
    public async Task The_end_waits_until_the_queued_audio_has_played()
    {
        var time = new FakeTimeProvider();
        var output = new RecordingOutput(time, new OutputTransportOptions());
        await using var harness = await StartAsync(output, time);

        await harness.SendAsync(new OutputAudioRawFrame(Slice(0, 0.3), Rate));
        var ending = harness.EndAsync();
        await output.PlayInStepsAsync(harness, time, until: () => output.Seen<BotStoppedSpeakingFrame>(), audioToTake: TimeSpan.FromSeconds(0.3));

        (await ending).Should().Be(VoicePipeline.Pipelines.PipelineCompletion.Ended);
        output.Written.Should().Be(TimeSpan.FromSeconds(0.3));
        output.FirstOut<BotStoppedSpeakingFrame>().At.Should().BeCloseTo(TimeSpan.FromSeconds(0.3), s_chunk);
    }

    [Fact]
    public void Options_are_validated()
    {
        new OutputTransportOptions { ChunkDuration = TimeSpan.FromMilliseconds(5) }.Invoking(o => o.Validate()).Should().Throw<ArgumentOutOfRangeException>();
        new OutputTransportOptions { ChunkDuration = TimeSpan.FromMilliseconds(50) }.Invoking(o => o.Validate()).Should().Throw<ArgumentOutOfRangeException>();
        new OutputTransportOptions { BufferDuration = TimeSpan.FromMilliseconds(5) }.Invoking(o => o.Validate()).Should().Throw<ArgumentOutOfRangeException>();
        new OutputTransportOptions { ChunkDuration = TimeSpan.FromMilliseconds(10) }.Validate().ChunkDuration.Should().Be(TimeSpan.FromMilliseconds(10));
    }

    private static Task<FrameProcessorHarness> StartAsync(RecordingOutput output, FakeTimeProvider time)
        => FrameProcessorHarness.StartAsync(output, new HarnessOptions { TimeProvider = time, AudioOutSampleRate = Rate });

    private static async Task EndAsync(FrameProcessorHarness harness, FakeTimeProvider time)
    {
        var ending = harness.EndAsync();
        for (var i = 0; i < 1000 && !ending.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Yield();
        }
        (await ending).Should().Be(VoicePipeline.Pipelines.PipelineCompletion.Ended);
    }

    private static byte[] Slice(double from, double seconds)
        => TestAudio.ToBytes(s_speech.AsSpan((int)(from * Rate), (int)Math.Round(seconds * Rate)));

    private static TtsAudioRawFrame Audio(double seconds, string context, double from) => new(Slice(from, seconds), Rate) { ContextId = context };

    private static TtsTextFrame Word(string text, string context, double start)
        => new(text) { ContextId = context, AudioStart = TimeSpan.FromSeconds(start), AudioEnd = TimeSpan.FromSeconds(start + 0.2) };
}

/// <summary>A frame sent through the transport to learn that its playout loop has handled everything before.</summary>
internal sealed class ProbeFrame : DataFrame;

/// <summary>An output transport that records what it plays and lets out, with the fake clock's time of each.</summary>
internal sealed class RecordingOutput(FakeTimeProvider time, OutputTransportOptions options) : OutputTransport(options, "RecordingOutput")
{
    private readonly Lock _gate = new();
    private readonly List<(Func<bool> Condition, TaskCompletionSource Done)> _waiters = [];

    public long Origin { get; } = time.GetTimestamp();

    public List<(TimeSpan At, TimeSpan Position, TimeSpan Duration)> Writes { get; } = [];

    private readonly List<(TimeSpan At, Frame Frame, TimeSpan WrittenBefore)> _out = [];

    public List<(TimeSpan At, Frame Frame, TimeSpan WrittenBefore)> Out
    {
        get
        {
            lock (_gate)
                return _out.ToList();
        }
    }

    public List<byte> Bytes { get; } = [];

    public TimeSpan Written { get; private set; }

    public int Interruptions { get; private set; }

    public bool Seen<T>() where T : Frame
    {
        lock (_gate)
            return _out.Any(o => o.Frame is T);
    }

    public (TimeSpan At, Frame Frame, TimeSpan WrittenBefore) FirstOut<T>() where T : Frame
    {
        lock (_gate)
            return _out.First(o => o.Frame is T);
    }

    /// <summary>Waits until <paramref name="condition"/> holds, checked whenever the transport writes or lets a frame out.</summary>
    public Task WaitForAsync(Func<bool> condition)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (condition())
                return Task.CompletedTask;
            _waiters.Add((condition, done));
        }
        return WaitAsync(done.Task);
    }

    private async Task WaitAsync(Task done)
    {
        try
        {
            await done.WaitAsync(TimeSpan.FromSeconds(15));
        }
        catch (TimeoutException)
        {
            lock (_gate)
                throw new TimeoutException($"Written {Written}, queued {QueuedAudio}, out: {string.Join(", ", _out.Select(o => $"{o.Frame}@{o.At.TotalMilliseconds}"))}");
        }
    }

    /// <summary>
    /// Moves the clock 10 ms at a time; after each step waits until the transport has caught up with the clock: it wrote
    /// every chunk due by now or, with nothing queued, let a probe frame through its playout loop. So each recorded time
    /// is the time things were due, give or take a step. <paramref name="steady"/>: audio keeps coming (a frame larger
    /// than the buffer), so only wait for the chunk due; a probe would wait behind that frame.
    /// </summary>
    public async Task PlayInStepsAsync(FrameProcessorHarness harness, FakeTimeProvider clock, Func<bool> until, TimeSpan audioToTake = default, bool steady = false, double maxSeconds = 10, int framesToTake = 0)
    {
        // The frames sent are taken on the transport's own loop: let it take them all (the audio, and with
        // framesToTake every frame, such as text that follows its audio) before the clock moves.
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while ((Written + QueuedAudio < audioToTake || FramesTaken < framesToTake) && deadline.Elapsed < TimeSpan.FromSeconds(15))
            await Task.Yield();
        for (var step = 0; step < maxSeconds * 100 && !until(); step++)
        {
            var now = clock.GetElapsedTime(Origin);
            if (Written <= now)
            {
                // Audio due by now is still to be written: wait for it, or for the queue of audio to run dry.
                await WaitForAsync(() => until() || Written > now || (!steady && QueuedAudio == TimeSpan.Zero));
                if (Written <= now && !until())
                {
                    // Nothing left to play by now: whatever is queued is due, so a probe comes out behind it.
                    var probe = new ProbeFrame();
                    await harness.SendAsync(probe);
                    await WaitForAsync(() => until() || _out.Any(o => ReferenceEquals(o.Frame, probe)));
                }
            }
            if (until())
                break;
            clock.Advance(TimeSpan.FromMilliseconds(10));
        }
        until().Should().BeTrue("the condition should hold within {0} s of clock; out: {1}", maxSeconds, string.Join(", ", Out.Select(o => $"{o.Frame.GetType().Name}@{o.At.TotalMilliseconds}")));
    }

    protected override ValueTask WriteAudioAsync(ReadOnlyMemory<byte> audio, int sampleRate, int channels, CancellationToken cancellationToken)
    {
        var duration = TimeSpan.FromSeconds((double)(audio.Length / 2 / channels) / sampleRate);
        lock (_gate)
        {
            Writes.Add((time.GetElapsedTime(Origin), Written, duration));
            Bytes.AddRange(audio.ToArray());
            Written += duration;
        }
        Check();
        return ValueTask.CompletedTask;
    }

    protected override ValueTask OnFrameOutAsync(Frame frame, CancellationToken cancellationToken)
    {
        lock (_gate)
            _out.Add((time.GetElapsedTime(Origin), frame, Written));
        Check();
        return ValueTask.CompletedTask;
    }

    protected override ValueTask OnPlaybackInterruptedAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
            Interruptions++;
        return ValueTask.CompletedTask;
    }

    private void Check()
    {
        List<TaskCompletionSource>? done = null;
        lock (_gate)
        {
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Condition())
                {
                    (done ??= []).Add(_waiters[i].Done);
                    _waiters.RemoveAt(i);
                }
            }
        }
        done?.ForEach(d => d.TrySetResult());
    }
}
