using VoicePipeline.Frames;
using VoicePipeline.Pipelines;
using VoicePipeline.Processors;

namespace VoicePipeline.Services;

/// <summary>
/// Several services of one kind behind one processor, one of them active at a time (the first, to begin with); a
/// <see cref="SwitchServiceFrame"/> (from either direction) makes another one active, e.g. from a realtime STT to a
/// segmented one, or between two TTS voices or providers.
/// </summary>
/// <remarks>
/// Every service runs in its own branch of a <see cref="ParallelPipeline"/> between two gates. Frames reach only the
/// active service, except lifecycle frames (start, end, cancel), interruptions and settings updates, which reach every
/// service (so a service made active later already has the settings); what an inactive service produces is dropped.
/// Each gate flips when the switch frame passes it, so the frames before a switch go to the old service and the
/// frames after it to the new one, in order.
/// </remarks>
public sealed class ServiceSwitcher : Pipeline
{
    private readonly SwitchState _state;

    /// <summary>Creates a switcher over <paramref name="services"/>; the first is active.</summary>
    public ServiceSwitcher(params FrameProcessor[] services)
        : this(new SwitchState(services), null)
    {
    }

    /// <summary>Creates a named switcher over <paramref name="services"/>; the first is active.</summary>
    public ServiceSwitcher(IEnumerable<FrameProcessor> services, string? name)
        : this(new SwitchState(services?.ToArray() ?? throw new ArgumentNullException(nameof(services))), name)
    {
    }

    private ServiceSwitcher(SwitchState state, string? name)
        : base([state.Branches], name)
        => _state = state;

    /// <summary>Gets the services, in order.</summary>
    public IReadOnlyList<FrameProcessor> Services => _state.Services;

    /// <summary>Gets the service frames go to now.</summary>
    public FrameProcessor ActiveService => Volatile.Read(ref _state.Active);

    private sealed class SwitchState
    {
        public FrameProcessor Active;

        public SwitchState(FrameProcessor[] services)
        {
            ArgumentNullException.ThrowIfNull(services);
            if (services.Length == 0)
                throw new ArgumentException("A switcher needs at least one service.", nameof(services));
            Services = services;
            Active = services[0];
            Branches = new ParallelPipeline(services.Select(s => new FrameProcessor[] { new Gate(this, s, entry: true), s, new Gate(this, s, entry: false) }).ToArray());
        }

        public FrameProcessor[] Services { get; }

        public ParallelPipeline Branches { get; }

        /// <summary>The service a switch frame selects among these, or null when it is for another switcher.</summary>
        public FrameProcessor? Selected(SwitchServiceFrame frame)
            => Array.Find(Services, s => ReferenceEquals(s, frame.Service) || (frame.ServiceName is not null && string.Equals(s.Name, frame.ServiceName, StringComparison.Ordinal)));
    }

    /// <summary>Lets a branch's frames through only while its service is active; runs on the caller's thread, like a pipeline boundary.</summary>
    private sealed class Gate(SwitchState state, FrameProcessor service, bool entry) : FrameProcessor($"{service.Name}.{(entry ? "in" : "out")}")
    {
        private bool _active = ReferenceEquals(state.Services[0], service);

        public override ValueTask SetupAsync(FrameProcessorSetup setup, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public override ValueTask QueueFrameAsync(Frame frame, FrameDirection direction = FrameDirection.Downstream, CancellationToken cancellationToken = default)
        {
            if (frame is SwitchServiceFrame switching && state.Selected(switching) is { } selected)
            {
                _active = ReferenceEquals(selected, service);
                if (_active && entry == (direction == FrameDirection.Downstream))
                    Volatile.Write(ref state.Active, service); // the first gate the frame meets on its way in
                return PushFrameAsync(frame, direction, cancellationToken);
            }
            var towardService = entry == (direction == FrameDirection.Downstream);
            var pass = _active
                || frame is Frames.StartFrame or EndFrame or CancelFrame
                || (towardService && frame is ServiceUpdateSettingsFrame or InterruptionFrame);
            return pass ? PushFrameAsync(frame, direction, cancellationToken) : ValueTask.CompletedTask;
        }
    }
}

/// <summary>Makes a service of a <see cref="ServiceSwitcher"/> the active one. Never dropped by an interruption.</summary>
public sealed class SwitchServiceFrame : ControlFrame, IUninterruptibleFrame
{
    /// <summary>Switches to <paramref name="service"/>.</summary>
    public SwitchServiceFrame(FrameProcessor service) => Service = service ?? throw new ArgumentNullException(nameof(service));

    /// <summary>Switches to the service named <paramref name="serviceName"/>.</summary>
    public SwitchServiceFrame(string serviceName) => ServiceName = serviceName ?? throw new ArgumentNullException(nameof(serviceName));

    /// <summary>Gets the service to switch to, when given by instance.</summary>
    public FrameProcessor? Service { get; }

    /// <summary>Gets the name of the service to switch to, when given by name.</summary>
    public string? ServiceName { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Name}(to {Service?.Name ?? ServiceName})";
}
