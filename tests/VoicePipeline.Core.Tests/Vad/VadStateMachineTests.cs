namespace VoicePipeline.Vad.Tests;

public class VadStateMachineTests
{
    private static readonly TimeSpan s_window = TimeSpan.FromMilliseconds(32);

    private static readonly VadWindow s_silence = new(0.01f, 0);
    private static readonly VadWindow s_speech = new(0.99f, 0.9f);

    /// <summary>Feeds the windows; returns each transition with the index of the window that confirmed it.</summary>
    private static List<(int Window, VadTransition Transition)> Run(VadStateMachine machine, IEnumerable<VadWindow> windows)
    {
        var transitions = new List<(int, VadTransition)>();
        var index = 0;
        foreach (var window in windows)
        {
            if (machine.Update(window) is { } transition)
                transitions.Add((index, transition));
            index++;
        }
        return transitions;
    }

    private static IEnumerable<VadWindow> Repeat(VadWindow window, int count) => Enumerable.Repeat(window, count);

    /// <summary>Where the speech began (or ended) by the transition: its timestamp less the time waited.</summary>
    private static double SpeechEdge(VadTransition t) => t.Timestamp.TotalSeconds - t.WaitedSecs;

    [Fact]
    public void Speech_starts_after_start_secs_and_reports_the_window_where_it_began()
    {
        var machine = new VadStateMachine(new VadParams(), s_window);

        var transitions = Run(machine, [.. Repeat(s_silence, 10), .. Repeat(s_speech, 20), .. Repeat(s_silence, 20)]);

        transitions.Select(t => t.Transition.Speaking).Should().Equal(true, false);
        transitions[0].Window.Should().Be(15, "0.2 s is six windows of 32 ms");
        SpeechEdge(transitions[0].Transition).Should().BeApproximately(10 * 0.032, 1e-9);
        transitions[1].Window.Should().Be(35);
        SpeechEdge(transitions[1].Transition).Should().BeApproximately(30 * 0.032, 1e-9, "the speech ended where the silence began");
        machine.State.Should().Be(VadState.Quiet);
    }

    [Fact]
    public void The_volume_gate_opens_on_the_first_loud_window_after_silence()
    {
        // Pipecat smooths rises too: from silence its gate stays shut for the first five windows of speech at this level.
        var machine = new VadStateMachine(new VadParams(), s_window);

        var transitions = Run(machine, [.. Repeat(s_silence, 50), .. Repeat(s_speech, 6)]);

        machine.Volume.Should().BeApproximately(0.9, 1e-6);
        transitions.Should().ContainSingle().Which.Window.Should().Be(55);
        SpeechEdge(transitions[0].Transition).Should().BeApproximately(50 * 0.032, 1e-9);
    }

    [Fact]
    public void A_quiet_window_inside_speech_does_not_restart_the_count_towards_start_secs()
    {
        // A stop consonant or the gap between two words: the model still hears speech, the window is 30 dB quieter.
        var dip = new VadWindow(0.99f, 0.6f);
        var deepDip = new VadWindow(0.99f, 0.3f);
        var machine = new VadStateMachine(new VadParams(), s_window);

        var transitions = Run(machine, [.. Repeat(s_silence, 10), s_speech, s_speech, deepDip, dip, s_speech, s_speech, s_speech]);

        transitions.Should().ContainSingle().Which.Window.Should().Be(15);
        SpeechEdge(transitions[0].Transition).Should().BeApproximately(10 * 0.032, 1e-9);
    }

    [Fact]
    public void The_smoothed_volume_falls_by_Pipecats_factor_per_32_ms()
    {
        var machine = new VadStateMachine(new VadParams(), s_window);
        machine.Update(new VadWindow(0, 0.9f));
        machine.Update(new VadWindow(0, 0.4f));
        machine.Volume.Should().BeApproximately(0.9 + 0.2 * (0.4 - 0.9), 1e-6);
        machine.Update(new VadWindow(0, 0.95f));
        machine.Volume.Should().BeApproximately(0.95, 1e-6, "a rise is followed at once");

        var halfWindows = new VadStateMachine(new VadParams(), s_window / 2);
        halfWindows.Update(new VadWindow(0, 0.9f));
        halfWindows.Update(new VadWindow(0, 0.4f));
        halfWindows.Update(new VadWindow(0, 0.4f));
        halfWindows.Volume.Should().BeApproximately(0.9 + 0.2 * (0.4 - 0.9), 1e-6, "two 16 ms windows fall as far as one of 32 ms");
    }

    [Fact]
    public void Sound_below_min_volume_never_counts_as_speech_however_sure_the_model_is()
    {
        var faint = new VadWindow(1f, 0.55f);
        var machine = new VadStateMachine(new VadParams(), s_window);

        Run(machine, Repeat(faint, 100)).Should().BeEmpty();

        var lowered = new VadStateMachine(new VadParams { MinVolume = 0.5 }, s_window);
        Run(lowered, Repeat(faint, 100)).Should().ContainSingle().Which.Transition.Speaking.Should().BeTrue();
    }

    [Fact]
    public void Once_speech_fades_below_min_volume_the_speech_stops()
    {
        // The model keeps hearing speech, but it fades to -60 LUFS: the smoothed volume follows it down and the gate shuts.
        var machine = new VadStateMachine(new VadParams(), s_window);

        var transitions = Run(machine, [.. Repeat(s_speech, 20), .. Repeat(new VadWindow(0.99f, 0.5f), 40)]);

        transitions.Select(t => t.Transition.Speaking).Should().Equal(true, false);
        // Smoothed, 0.9 falls below 0.6 on the seventh window at 0.5 (0.82, 0.756, 0.705, 0.664, 0.631, 0.605, 0.584).
        SpeechEdge(transitions[1].Transition).Should().BeApproximately(26 * 0.032, 1e-9);
    }

    [Fact]
    public void A_window_the_model_doubts_restarts_the_count_as_in_Pipecat_but_not_where_the_speech_began()
    {
        var doubt = new VadWindow(0.5f, 0.9f);
        var machine = new VadStateMachine(new VadParams(), s_window);

        var transitions = Run(machine, [.. Repeat(s_silence, 10), .. Repeat(s_speech, 5), doubt, .. Repeat(s_speech, 6)]);

        transitions.Should().ContainSingle().Which.Window.Should().Be(21, "six windows of speech in a row confirm a start");
        SpeechEdge(transitions[0].Transition).Should().BeApproximately(10 * 0.032, 1e-9, "a one-window pause would not have ended speech");
    }

    [Fact]
    public void A_start_reaches_back_over_pauses_shorter_than_stop_secs_only()
    {
        // A short first word ("What"), a stop consonant the model hears as silence, then the rest of the question.
        var shortPause = new VadStateMachine(new VadParams(), s_window);
        var longPause = new VadStateMachine(new VadParams(), s_window);
        var blip = new VadStateMachine(new VadParams { StopSecs = 0.8 }, s_window);

        var reached = Run(shortPause, [.. Repeat(s_silence, 10), .. Repeat(s_speech, 4), .. Repeat(s_silence, 5), .. Repeat(s_speech, 6)]);
        var notReached = Run(longPause, [.. Repeat(s_silence, 10), .. Repeat(s_speech, 4), .. Repeat(s_silence, 6), .. Repeat(s_speech, 6)]);
        var chained = Run(blip, [.. Repeat(s_silence, 10), s_speech, .. Repeat(s_silence, 20), s_speech, s_speech, .. Repeat(s_silence, 20), .. Repeat(s_speech, 6)]);

        reached.Should().ContainSingle().Which.Window.Should().Be(24, "the start is confirmed when it would have been without reaching back");
        SpeechEdge(reached[0].Transition).Should().BeApproximately(10 * 0.032, 1e-9);
        notReached.Should().ContainSingle().Which.Window.Should().Be(25);
        SpeechEdge(notReached[0].Transition).Should().BeApproximately(20 * 0.032, 1e-9, "six windows of silence (0.2 s) would have ended speech");
        SpeechEdge(chained.Should().ContainSingle().Subject.Transition).Should().BeApproximately(10 * 0.032, 1e-9, "each pause is shorter than 0.8 s");
    }

    [Fact]
    public void A_start_never_reaches_back_into_the_previous_segment()
    {
        var machine = new VadStateMachine(new VadParams(), s_window);

        var transitions = Run(machine, [.. Repeat(s_speech, 10), .. Repeat(s_silence, 6), .. Repeat(s_speech, 6)]);

        transitions.Select(t => t.Transition.Speaking).Should().Equal(true, false, true);
        SpeechEdge(transitions[1].Transition).Should().BeApproximately(10 * 0.032, 1e-9);
        SpeechEdge(transitions[2].Transition).Should().BeApproximately(16 * 0.032, 1e-9);
    }

    [Fact]
    public void A_volume_that_is_not_a_number_counts_as_silence()
    {
        var machine = new VadStateMachine(new VadParams(), s_window);

        machine.Update(new VadWindow(1f, float.NaN));
        machine.Volume.Should().Be(0);
        Run(machine, Repeat(s_speech, 6)).Should().ContainSingle();
    }
}
