#pragma warning disable CS0618 // VadProcessor.InterruptOnSpeech: this fixture keeps barge-in at the VAD, as the clients it serves expect
using Microsoft.Playwright;
using VoicePipeline.AI;
using VoicePipeline.Together.Chat;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Emulator;
using VoicePipeline.Together.Realtime;
using VoicePipeline.Together.Speech;
using VoicePipeline.Tests.Shared;
using VoicePipeline.Vad;
using VoicePipeline.Vad.Silero;

namespace VoicePipeline.Transports.WebSockets.Tests;

/// <summary>
/// The browser page in a real headless Chromium (Debian's /usr/bin/chromium) with a fake microphone playing an
/// espeak-ng recording in a loop, against the voice agent on the emulator.
/// </summary>
public class BrowserPageTests
{
    [Fact]
    public async Task The_page_shows_the_user_transcript_plays_the_reply_and_barge_in_stops_playback()
    {
        // Speech, then a pause shorter than the reply: when the loop speaks again the bot is still talking (barge-in).
        var wav = TestAudio.WriteWav(TestAudio.TempPath(".wav"),
            TestAudio.Concat(TestAudio.Silence(0.5), TestAudio.Speak("What time does the museum open tomorrow?", 16000), TestAudio.Silence(3.0)), 16000);
        await using var emulator = await TogetherEmulator.StartAsync();
        var together = new TogetherClientOptions { ApiKey = "test", BaseUrl = emulator.BaseUrl };
        using var chat = TogetherChat.CreateChatClient(together);
        using var batcher = new SileroVadBatcher();
        await using var server = await VoiceWebSocketServer.StartAsync(session => session.RunPipelineAsync(
        [
            new VadProcessor(new SileroVadAnalyzer(batcher: batcher), new VadParams { StopSecs = 0.5 }) { InterruptOnSpeech = true },
            new TogetherSttService(new TogetherSttOptions { ApiKey = "test", BaseUrl = emulator.BaseUrl }),
            new ChatClientLlmService(chat, new ChatClientLlmServiceOptions { SystemPrompt = "Answer briefly." }),
            new TogetherTtsService(new TogetherTtsOptions { ApiKey = "test", BaseUrl = emulator.BaseUrl }),
        ]), new WebSocketServerOptions { Port = 0 });

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright, wav);
        var page = await browser.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        await page.GotoAsync(server.BaseUrl.ToString());
        await page.ClickAsync("#start");

        // Waits are on the page's own state (Playwright polls it), bounded; nothing sleeps.
        // The fake microphone loops the file from wherever capture starts, so an early turn may be a fragment: some
        // user line must carry the question's words.
        await page.WaitForSelectorAsync("#log p.user", new PageWaitForSelectorOptions { Timeout = 90_000 });
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#log p.user')].some(p => /museum|open|time|tomorrow/i.test(p.textContent))",
            null, new PageWaitForFunctionOptions { Timeout = 90_000, PollingInterval = 100 });
        await page.WaitForFunctionAsync("() => window.vpStats.audioSamples > OUTPUT_RATE / 2", null, new PageWaitForFunctionOptions { Timeout = 90_000 });
        var bot = await page.WaitForSelectorAsync("#log p.bot", new PageWaitForSelectorOptions { Timeout = 90_000 });
        // The loop speaks again while the reply plays: the server's interruption makes the page stop those sources.
        await page.WaitForFunctionAsync("() => window.vpStats.stoppedSources > 0", null, new PageWaitForFunctionOptions { Timeout = 120_000 });

        var userLines = await page.EvalOnSelectorAllAsync<string[]>("#log p.user", "ps => ps.map(p => p.textContent)");
        userLines.Should().Contain(line => System.Text.RegularExpressions.Regex.IsMatch(line, "(?i)museum|open|time|tomorrow"), "the user's words are shown");
        (await bot!.TextContentAsync()).Should().NotBeNullOrWhiteSpace("the bot's reply text is shown");
        (await page.EvaluateAsync<int>("() => window.vpStats.interruptions")).Should().BeGreaterThan(0);
        errors.Should().BeEmpty();
    }
}
