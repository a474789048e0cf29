using System.Net.WebSockets;
using System.Text;
using VoicePipeline.Together.Emulator.Recognition;

namespace VoicePipeline.Together.Emulator.Tests;

/// <summary>The realtime endpoint keeps a session's events and audio only when a test opts in, and then only up to a cap.</summary>
public sealed class RealtimeRecordingTests
{
    private static async Task StreamAsync(TogetherEmulator emulator, int appends, int bytesPerAppend)
    {
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer k");
        await socket.ConnectAsync(new Uri(emulator.BaseUrl.ToString().Replace("http", "ws", StringComparison.Ordinal) + "/realtime?model=m"), CancellationToken.None);
        var buffer = new byte[64 * 1024];
        await socket.ReceiveAsync(buffer, CancellationToken.None); // session.created
        var append = Encoding.UTF8.GetBytes("{\"type\":\"input_audio_buffer.append\",\"audio\":\"" + Convert.ToBase64String(Enumerable.Repeat((byte)7, bytesPerAppend).ToArray()) + "\"}");
        for (var i = 0; i < appends; i++)
            await socket.SendAsync(append, WebSocketMessageType.Text, true, CancellationToken.None);
        await socket.SendAsync("{\"type\":\"input_audio_buffer.commit\"}"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        await socket.ReceiveAsync(buffer, CancellationToken.None); // committed: every append before it was handled
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
    }

    [Fact]
    public async Task By_default_a_session_is_listed_and_counted_but_its_events_and_audio_are_not_kept()
    {
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { Recognizer = new ScriptedRecognizerFactory("hi") });

        await StreamAsync(emulator, appends: 5, bytesPerAppend: 640);

        var session = emulator.RealtimeSessions.Should().ContainSingle().Subject;
        session.IsRecorded.Should().BeFalse();
        session.AudioBytesReceived.Should().Be(5 * 640);
        session.LargestAppendBytes.Should().Be(640);
        var audio = () => session.Audio;
        audio.Should().Throw<InvalidOperationException>().WithMessage("*RecordRealtimeSessions*");
        var events = () => session.Events;
        events.Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public async Task A_test_that_opts_in_gets_the_events_and_the_audio_up_to_the_cap()
    {
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions
        {
            Recognizer = new ScriptedRecognizerFactory("hi"),
            RecordRealtimeSessions = true,
            MaxRecordedAudioBytes = 1000,
        });

        await StreamAsync(emulator, appends: 3, bytesPerAppend: 640);

        var session = emulator.RealtimeSessions.Single();
        session.Events.Should().Equal("input_audio_buffer.append", "input_audio_buffer.append", "input_audio_buffer.append", "input_audio_buffer.commit");
        session.Audio.Should().HaveCount(1000).And.OnlyContain(b => b == 7);
        session.AudioBytesReceived.Should().Be(3 * 640);
    }

    [Fact]
    public async Task The_connection_log_keeps_only_the_most_recent_entries()
    {
        await using var emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { Recognizer = new ScriptedRecognizerFactory("hi"), MaxLoggedRequests = 2 });

        for (var i = 1; i <= 3; i++)
            await StreamAsync(emulator, appends: i, bytesPerAppend: 320);

        emulator.RealtimeSessions.Select(s => s.AudioBytesReceived).Should().Equal(2 * 320, 3 * 320);
    }
}
