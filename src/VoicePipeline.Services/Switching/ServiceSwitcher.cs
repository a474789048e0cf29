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
/// Frames after a switch go to the new service; the old one's output for the frames before it still goes out. The
/// services run side by side, so output of the old and the new service may interleave around a switch.
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
            Branches = new ParallelPipeline(services.Select((s, i) => new Branch(s, i == 0))
                .Select(b => new FrameProcessor[] { new Gate(this, b, entry: true), b.Service, new Gate(this, b, entry: false) }).ToArray());
        }

        public FrameProcessor[] Services { get; }

        public ParallelPipeline Branches { get; }

        /// <summary>The service a switch frame selects among these, or null when it is for another switcher.</summary>
        public FrameProcessor? Selected(SwitchServiceFrame frame)
            => Array.Find(Services, s => ReferenceEquals(s, frame.Service) || (frame.ServiceName is not null && string.Equals(s.Name, frame.ServiceName, StringComparison.Ordinal)));
    }

    /// <summary>
    /// Lets a branch's frames through only while its service is active; runs on the caller's thread, like a pipeline
    /// boundary. What goes into the services follows the switcher's active service, switched as the switch frame
    /// enters; what comes out of a service follows its branch's own flag, switched as the switch frame leaves that
    /// service, so a service's output for the frames before the switch still goes out.
    /// </summary>
    private sealed class Gate(SwitchState state, Branch branch, bool entry) : FrameProcessor($"{branch.Service.Name}.{(entry ? "in" : "out")}")
    {
        public override ValueTask SetupAsync(FrameProcessorSetup setup, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public override ValueTask QueueFrameAsync(Frame frame, FrameDirection direction = FrameDirection.Downstream, CancellationToken cancellationToken = default)
        {
            var inbound = entry == (direction == FrameDirection.Downstream);
            if (frame is SwitchServiceFrame switching && state.Selected(switching) is { } selected)
            {
                if (inbound)
                    Volatile.Write(ref state.Active, selected);
                else
                    branch.OutputActive = ReferenceEquals(selected, branch.Service);
                return PushFrameAsync(frame, direction, cancellationToken);
            }
            var pass = frame is Frames.StartFrame or EndFrame or CancelFrame
                || (inbound
                    ? ReferenceEquals(Volatile.Read(ref state.Active), branch.Service) || frame is ServiceUpdateSettingsFrame or InterruptionFrame
                    : branch.OutputActive);
            return pass ? PushFrameAsync(frame, direction, cancellationToken) : ValueTask.CompletedTask;
        }
    }

    /// <summary>A service and whether its output goes out.</summary>
    private sealed class Branch(FrameProcessor service, bool active)
    {
        public FrameProcessor Service { get; } = service;

        public volatile bool OutputActive = active;
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
