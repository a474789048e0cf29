using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using VoicePipeline.Frames;
using VoicePipeline.Testing;

namespace VoicePipeline.Services.Tests;

/// <summary>The drop budget of <see cref="RealtimeSttService"/>: drops in a row use it up; a healthy session starts it again.</summary>
public class RealtimeSttDropBudgetTests
{
    private static InputAudioRawFrame Audio() => new(new byte[640], 16_000);

    [Fact]
    public async Task Drops_in_a_row_use_up_the_budget_and_end_in_one_fatal_error()
    {
        var options = new RealtimeSttOptions { MaxConnectAttempts = 1, ReconnectBaseDelay = TimeSpan.FromMilliseconds(1), ReconnectMaxDelay = TimeSpan.FromMilliseconds(5) };
        var stt = new FakeRealtimeStt(new SttSettings { Model = "m1" }, options) { Configure = s => s.Drop("the network went away") };
        await using var harness = await FrameProcessorHarness.StartAsync(stt, new HarnessOptions { AudioInSampleRate = 16_000 });

        var error = await harness.WaitForUpstreamAsync<ErrorFrame>(e => e.Fatal, TimeSpan.FromSeconds(30));
        await harness.EndAsync();

        error.Message.Should().Contain("keeps dropping");
        stt.Snapshot().Should().HaveCount(4, "one attempt per connection, and three times as many drops, in a row");
    }

    [Fact]
    public async Task A_session_that_stayed_up_long_enough_starts_the_drop_count_again()
    {
        var time = new FakeTimeProvider();
        var options = new RealtimeSttOptions
        {
            MaxConnectAttempts = 1,
            ReconnectBaseDelay = TimeSpan.FromSeconds(1),
            ReconnectMaxDelay = TimeSpan.FromSeconds(5),
            DropCountResetAfter = TimeSpan.FromSeconds(30),
        };
        var live = Channel.CreateUnbounded<FakeSession>();
        var stt = new FakeRealtimeStt(new SttSettings { Model = "m1" }, options)
        {
            // The first audio a session gets shows the service took it live (and started counting its time up).
            Configure = s => s.OnAppend = (session, total) => { if (total > 0) live.Writer.TryWrite(session); },
        };
        await using var harness = await FrameProcessorHarness.StartAsync(stt, new HarnessOptions { AudioInSampleRate = 16_000, TimeProvider = time });

        // Twice the budget of drops, each after half a minute of a healthy session: a long call with a flaky network.
        FakeSession? last = null;
        for (var i = 0; i < 8; i++)
        {
            await harness.SendAsync(Audio());
            FakeSession session;
            try
            {
                session = await NextLiveAsync(live, last);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"iteration {i}, sessions {stt.Snapshot().Length}, errors {string.Join(" | ", harness.Upstream.OfType<ErrorFrame>().Select(e => e.Message))}");
            }
            time.Advance(TimeSpan.FromSeconds(30));
            session.Drop("the network hiccuped");
            last = session;
        }
        await harness.SendAsync(Audio());
        await NextLiveAsync(live, last);
        await harness.EndAsync();

        harness.Upstream.OfType<ErrorFrame>().Should().BeEmpty("every drop came after a healthy period, so none used up the budget");
        stt.Snapshot().Should().HaveCount(9);
    }

    private static async Task<FakeSession> NextLiveAsync(Channel<FakeSession> live, FakeSession? previous)
    {
        while (true)
        {
            var session = await live.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            if (!ReferenceEquals(session, previous))
                return session;
        }
    }
}
