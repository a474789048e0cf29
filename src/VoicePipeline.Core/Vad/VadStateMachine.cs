namespace VoicePipeline.Vad;

/// <summary>
/// QUIET -> STARTING -> SPEAKING -> STOPPING, driven by per-window verdicts: speech must last
/// <see cref="VadParams.StartSecs"/> to start and silence <see cref="VadParams.StopSecs"/> to stop.
/// </summary>
public sealed class VadStateMachine
{
    private readonly TimeSpan _window;
    private VadParams _params;
    private int _startWindows;
    private int _stopWindows;
    private int _run;
    private long _windows;

    /// <summary>Creates a state machine for windows of <paramref name="window"/>.</summary>
    public VadStateMachine(VadParams parameters, TimeSpan window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        _window = window;
        _params = null!;
        Params = parameters;
    }

    /// <summary>Gets the current state.</summary>
    public VadState State { get; private set; }

    /// <summary>Gets or sets the parameters (validated); a change applies from the next window.</summary>
    public VadParams Params
    {
        get => _params;
        set
        {
            _params = (value ?? throw new ArgumentNullException(nameof(value))).Validate();
            _startWindows = Math.Max(1, (int)Math.Round(value.StartSecs / _window.TotalSeconds));
            _stopWindows = Math.Max(1, (int)Math.Round(value.StopSecs / _window.TotalSeconds));
        }
    }

    /// <summary>Gets the audio time analyzed so far.</summary>
    public TimeSpan Position => _window * _windows;

    /// <summary>Advances by one window; returns the transition it confirms, if any.</summary>
    public VadTransition? Update(VadWindow verdict)
    {
        _windows++;
        var speech = verdict.Confidence >= _params.Confidence && verdict.Volume >= _params.MinVolume;
        switch (State)
        {
            case VadState.Quiet when speech:
            case VadState.Starting when speech:
                _run = State == VadState.Quiet ? 1 : _run + 1;
                State = VadState.Starting;
                if (_run >= _startWindows)
                {
                    State = VadState.Speaking;
                    return new VadTransition(true, Position, _run * _window.TotalSeconds);
                }
                break;
            case VadState.Starting:
                State = VadState.Quiet;
                break;
            case VadState.Speaking when !speech:
            case VadState.Stopping when !speech:
                _run = State == VadState.Speaking ? 1 : _run + 1;
                State = VadState.Stopping;
                if (_run >= _stopWindows)
                {
                    State = VadState.Quiet;
                    return new VadTransition(false, Position, _run * _window.TotalSeconds);
                }
                break;
            case VadState.Stopping:
                State = VadState.Speaking;
                break;
        }
        return null;
    }
}
