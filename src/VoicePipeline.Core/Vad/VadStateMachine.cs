namespace VoicePipeline.Vad;

/// <summary>
/// QUIET -> STARTING -> SPEAKING -> STOPPING, driven by per-window verdicts: speech must last
/// <see cref="VadParams.StartSecs"/> to start and silence <see cref="VadParams.StopSecs"/> to stop; a start reaches back
/// over a pause shorter than <see cref="VadParams.StopSecs"/> to speech just before it (a short first word, then a stop
/// consonant the model hears as silence), since such a pause would not have ended speech either. A window is speech
/// when the model's confidence reaches <see cref="VadParams.Confidence"/> and the smoothed volume
/// (<see cref="Volume"/>) reaches <see cref="VadParams.MinVolume"/>.
/// </summary>
/// <remarks>
/// The volume is smoothed as Pipecat smooths it (a factor of 0.2 per 32 ms window) while it falls, so the short dips of
/// running speech (a stop consonant, the gap between two words) do not close the gate and restart the count towards
/// <see cref="VadParams.StartSecs"/>; but it follows a rise at once: smoothing a rise from silence too, as Pipecat does,
/// would keep the gate shut through the first windows of every turn.
/// </remarks>
public sealed class VadStateMachine
{
    /// <summary>Pipecat's smoothing factor, for its 32 ms windows.</summary>
    private const double FallFactorPer32Ms = 0.2;

    private readonly TimeSpan _window;
    private readonly double _fallFactor;
    private VadParams _params;
    private int _startWindows;
    private int _stopWindows;
    private int _run;
    private long _windows;
    private long _origin;
    private long _lastSpeech = long.MinValue / 2;

    /// <summary>Creates a state machine for windows of <paramref name="window"/>.</summary>
    public VadStateMachine(VadParams parameters, TimeSpan window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        _window = window;
        _fallFactor = 1 - Math.Pow(1 - FallFactorPer32Ms, window.TotalSeconds / 0.032);
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

    /// <summary>Gets the smoothed volume after the last window (0..1): it rises with the windows' volume at once and falls smoothly.</summary>
    public double Volume { get; private set; }

    /// <summary>Gets the audio time analyzed so far.</summary>
    public TimeSpan Position => _window * _windows;

    /// <summary>Advances by one window; returns the transition it confirms, if any.</summary>
    public VadTransition? Update(VadWindow verdict)
    {
        _windows++;
        var volume = float.IsNaN(verdict.Volume) ? 0 : verdict.Volume;
        Volume = volume >= Volume ? volume : Volume + _fallFactor * (volume - Volume);
        var speech = verdict.Confidence >= _params.Confidence && Volume >= _params.MinVolume;
        var index = _windows - 1;
        if (speech && State is VadState.Speaking or VadState.Stopping)
            _lastSpeech = index;
        switch (State)
        {
            case VadState.Quiet when speech:
            case VadState.Starting when speech:
                if (State == VadState.Quiet)
                {
                    _run = 1;
                    // A pause too short to end speech does not move where the speech began either.
                    if (index - _lastSpeech - 1 >= _stopWindows)
                        _origin = index;
                }
                else
                {
                    _run++;
                }
                _lastSpeech = index;
                State = VadState.Starting;
                if (_run >= _startWindows)
                {
                    State = VadState.Speaking;
                    return new VadTransition(true, Position, (_windows - _origin) * _window.TotalSeconds);
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
