using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using VoicePipeline.Frames;
using VoicePipeline.Hosting;
using VoicePipeline.Processors;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Emulator;

namespace VoicePipeline.Examples;

/// <summary>What the examples share: Together configured once (or the offline emulator), the services, a console sink.</summary>
internal static class ExampleSupport
{
    /// <summary>
    /// The examples' services: configuration from the environment (<c>TOGETHER_API_KEY</c>, or <c>Together__ApiKey</c>
    /// and <c>Together__BaseUrl</c>), and without a key the embedded emulator (offline, PocketSphinx and espeak-ng) put
    /// in as <c>Together:ApiKey</c> and <c>Together:BaseUrl</c>. The key is set here once; every service gets it.
    /// </summary>
    /// <param name="batchedVad">Whether VAD analyzers share a batcher (many sessions at once).</param>
    public static async Task<ExampleServices> StartAsync(bool batchedVad = false)
    {
        var (configuration, emulator) = await ConfigureAsync();
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddVoicePipeline().AddTogether().AddSileroVad(o => o.Batched = batchedVad);
        var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate(); // a bad setting is one clear error here, not in the pipeline
        return new ExampleServices(provider, emulator);
    }

    /// <summary>Together with TOGETHER_API_KEY, otherwise the embedded emulator (offline, PocketSphinx), for code without DI.</summary>
    public static async Task<(Uri BaseUrl, string ApiKey, IAsyncDisposable? Emulator)> ConnectAsync()
    {
        var (configuration, emulator) = await ConfigureAsync();
        var services = new ServiceCollection();
        services.AddVoicePipeline().AddTogether(configuration);
        await using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<TogetherClientOptions>>().Value;
        return (options.BaseUrl, options.ApiKey!, emulator);
    }

    private static async Task<(IConfiguration Configuration, IAsyncDisposable? Emulator)> ConfigureAsync()
    {
        var environment = new ConfigurationBuilder().AddEnvironmentVariables().Build();
        if (!string.IsNullOrWhiteSpace(environment["Together:ApiKey"]) || !string.IsNullOrWhiteSpace(environment[TogetherClientOptions.ApiKeyEnvironmentVariable]))
            return (environment, null);
        Console.Error.WriteLine("No TOGETHER_API_KEY: running offline against the embedded emulator. Set TOGETHER_API_KEY to use Together AI.");
        var emulator = await TogetherEmulator.StartAsync();
        var offline = new ConfigurationBuilder()
            .AddConfiguration(environment)
            .AddInMemoryCollection([new("Together:ApiKey", "offline"), new("Together:BaseUrl", emulator.BaseUrl.AbsoluteUri)])
            .Build();
        return (offline, emulator);
    }

    /// <summary>The sample shipped in the repository, unless a file is given.</summary>
    public static string SampleOr(string[] args)
    {
        if (args.Length > 0)
            return args[0];
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            var sample = Path.Combine(dir.FullName, "samples", "sense-and-sensibility.wav");
            if (File.Exists(sample))
                return sample;
        }
        throw new FileNotFoundException("Pass an audio file.");
    }
}

/// <summary>An example's services, and the emulator when one runs; disposing stops both.</summary>
internal sealed class ExampleServices(ServiceProvider provider, IAsyncDisposable? emulator) : IAsyncDisposable
{
    /// <summary>Gets the container.</summary>
    public IServiceProvider Services => provider;

    /// <summary>Gets the factory of Together's STT and TTS services (one per pipeline).</summary>
    public TogetherServiceFactory Together => provider.GetRequiredService<TogetherServiceFactory>();

    /// <summary>Gets the factory of VAD processors (one per pipeline).</summary>
    public SileroVadFactory Vad => provider.GetRequiredService<SileroVadFactory>();

    /// <summary>Gets the factory of pipeline tasks and runners (the container's clock and logging).</summary>
    public PipelineTaskFactory Tasks => provider.GetRequiredService<PipelineTaskFactory>();

    /// <summary>Gets Together's chat through Microsoft.Extensions.AI.</summary>
    public IChatClient Chat => provider.GetRequiredService<IChatClient>();

    public async ValueTask DisposeAsync()
    {
        await provider.DisposeAsync();
        if (emulator is not null)
            await emulator.DisposeAsync();
    }
}

/// <summary>Prints final transcripts and text as they reach the end of the pipeline.</summary>
internal sealed class ConsoleSink : FrameProcessor
{
    protected override ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
    {
        switch (frame)
        {
            case TranscriptionFrame t:
                Console.WriteLine($"[{t.AudioStart?.TotalSeconds:0.0}s {t.Language ?? "?"}] {t.Text}");
                break;
            case TtsTextFrame spoken:
                Console.Write(spoken.Text + " "); // a word (or a sentence) once the TTS spoke it
                break;
            case LlmFullResponseEndFrame:
                Console.WriteLine();
                break;
            case TextFrame text when text is not InterimTranscriptionFrame:
                Console.Write(text.Text);
                break;
        }
        return PushFrameAsync(frame, direction, cancellationToken);
    }
}
