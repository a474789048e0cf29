using Microsoft.Playwright;

namespace VoicePipeline.Transports.WebSockets.Tests;

/// <summary>Debian's Chromium, headless, with a fake microphone that plays a WAV file (in a loop) and autoplay allowed.</summary>
internal static class HeadlessChromium
{
    public const string Path = "/usr/bin/chromium";

    /// <summary>Launches it through Playwright, which never downloads a browser of its own here.</summary>
    public static Task<IBrowser> LaunchAsync(IPlaywright playwright, string microphoneWav)
    {
        Assert.True(File.Exists(Path), $"{Path} is missing: run scripts/setup.sh");
        return playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Path,
            Headless = true,
            Args =
            [
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                $"--use-file-for-fake-audio-capture={microphoneWav}",
                "--autoplay-policy=no-user-gesture-required",
            ],
        });
    }
}
