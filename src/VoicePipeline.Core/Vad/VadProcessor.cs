using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VoicePipeline.Frames;
using VoicePipeline.Processors;

namespace VoicePipeline.Vad;

/// <summary>
/// Passes audio through and emits <see cref="UserStartedSpeakingFrame"/> / <see cref="UserStoppedSpeakingFrame"/> after
/// the audio that decided them, with the audio time of the decision and the seconds waited, so consumers know when
/// speech really began and ended. Applies <see cref="VadParamsUpdateFrame"/>s while running.
/// </summary>
public sealed class VadProcessor : FrameProcessor
{
    private readonly IVadAnalyzer _analyzer;
    private readonly VadStateMachine _machine;
    private int _rate;
    private int _channels;
    private bool _interruptOnSpeech;

    /// <summary>Creates the processor around <paramref name="analyzer"/>, which it owns and disposes.</summary>
    public VadProcessor(IVadAnalyzer analyzer, VadParams? parameters = null, string? name = null)
        : base(name)
    {
        _analyzer = analyzer ?? throw new ArgumentNullException(nameof(analyzer));
        _machine = new VadStateMachine(parameters ?? new VadParams(), analyzer.WindowDuration);
    }

    /// <summary>Gets the current speaking state.</summary>
    public VadState State => _machine.State;

    /// <summary>Gets the parameters in force.</summary>
    public VadParams Params => _machine.Params;

    /// <summary>
    /// Gets whether the user starting to speak also interrupts the bot: an <see cref="InterruptionFrame"/> follows each
    /// <see cref="UserStartedSpeakingFrame"/> (when the pipeline allows interruptions), so an answer being generated or
    /// spoken stops. Off by default: a transcription-only pipeline has nothing to interrupt.
    /// </summary>
    [Obsolete("Interruptions belong to the conversation: use LlmUserAggregatorOptions.InterruptOnSpeech (VoicePipeline.AI), which also keeps a reply from playing over the user and supports interruption strategies.")]
    public bool InterruptOnSpeech { get => _interruptOnSpeech; init => _interruptOnSpeech = value; }

    /// <summary>
    /// Audio travels as system frames (the input loop) while a <see cref="VadParamsUpdateFrame"/> is a control frame
    /// (the process loop), so the audio queued after an update could overtake it. The update is therefore carried on
    /// the audio's loop, in arrival order: it takes effect exactly between the audio frames it was sent between.
    /// </summary>
    public override ValueTask QueueFrameAsync(Frame frame, FrameDirection direction = FrameDirection.Downstream, CancellationToken cancellationToken = default)
        => frame is VadParamsUpdateFrame update && direction == FrameDirection.Downstream
            ? base.QueueFrameAsync(new InOrderParamsUpdate(update), direction, cancellationToken)
            : base.QueueFrameAsync(frame, direction, cancellationToken);

    /// <inheritdoc />
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    protected override async ValueTask ProcessSystemFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        switch (frame)
        {
            case InputAudioRawFrame audio:
                await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
                // Analyzed here rather than in a method of its own: about every other frame waits for the batched model,
                // and each async method between here and that wait would cost a state machine per frame.
                if (audio.SampleRate != _rate || audio.Channels != _channels)
                {
                    _analyzer.Configure(audio.SampleRate, audio.Channels);
                    _rate = audio.SampleRate;
                    _channels = audio.Channels;
                }
                var results = ArrayPool<VadWindow>.Shared.Rent(Math.Max(1, _analyzer.GetMaxWindows(audio.Audio.Length / sizeof(short))));
                try
                {
                    var count = await _analyzer.AnalyzeAsync(MemoryMarshal.Cast<byte, short>(audio.Audio.Span), results).ConfigureAwait(false);
                    for (var i = 0; i < count; i++)
                    {
                        if (_machine.Update(results[i]) is { } transition)
                            await PushTransitionAsync(transition, cancellationToken).ConfigureAwait(false);
                    }
                }
                finally
                {
                    ArrayPool<VadWindow>.Shared.Return(results);
                }
                break;
            case InOrderParamsUpdate update:
                _machine.Params = update.Update.Params.Validate();
                break;
            default:
                await PushFrameAsync(frame, direction, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    /// <inheritdoc />
    protected override ValueTask DisposeAsyncCore()
    {
        _analyzer.Dispose();
        return ValueTask.CompletedTask;
    }

    private async ValueTask PushTransitionAsync(VadTransition transition, CancellationToken cancellationToken)
    {
        Frame speaking = transition.Speaking
            ? new UserStartedSpeakingFrame { Timestamp = transition.Timestamp, StartSecs = transition.WaitedSecs }
            : new UserStoppedSpeakingFrame { Timestamp = transition.Timestamp, StopSecs = transition.WaitedSecs };
        await PushFrameAsync(speaking, FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
        if (transition.Speaking && _interruptOnSpeech && StartFrame?.AllowInterruptions != false)
            await PushFrameAsync(new InterruptionFrame(), FrameDirection.Downstream, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A <see cref="VadParamsUpdateFrame"/> riding the system-frame loop with the audio.</summary>
    private sealed class InOrderParamsUpdate(VadParamsUpdateFrame update) : SystemFrame
    {
        public VadParamsUpdateFrame Update { get; } = update;
    }
}
