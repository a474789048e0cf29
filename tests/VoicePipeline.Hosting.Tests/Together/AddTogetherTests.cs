using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using VoicePipeline.Frames;
using VoicePipeline.Hosting;
using VoicePipeline.Pipelines;
using VoicePipeline.Processors;
using VoicePipeline.Testing;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Emulator;
using VoicePipeline.Together.Realtime;
using VoicePipeline.Together.Speech;
using VoicePipeline.Together.Tests.Client;
using VoicePipeline.Together.Transcriptions;

namespace VoicePipeline.Hosting.Tests.Together;

/// <summary>
/// <c>AddVoicePipeline().AddTogether()</c>: settings from configuration, checked once at start, and clients and
/// services that get the key, the clock and the logging from the container, against the emulator over real sockets.
/// </summary>
public sealed class AddTogetherTests : IAsyncDisposable
{
    private const string Key = "sk-hosting-4b7e";
    private TogetherEmulator? _emulator;
    private ServiceProvider? _provider;

    public async ValueTask DisposeAsync()
    {
        if (_provider is not null)
            await _provider.DisposeAsync();
        if (_emulator is not null)
            await _emulator.DisposeAsync();
    }

    private static IConfiguration Configuration(params (string Key, string? Value)[] values)
        => new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    private async Task<IServiceProvider> StartAsync(Action<IServiceCollection>? services = null, params (string Key, string? Value)[] settings)
    {
        _emulator = await TogetherEmulator.StartAsync(new TogetherEmulatorOptions { ApiKey = Key });
        var collection = new ServiceCollection();
        collection.AddSingleton(Configuration([("Together:ApiKey", Key), ("Together:BaseUrl", _emulator.BaseUrl.AbsoluteUri), .. settings]));
        services?.Invoke(collection);
        collection.AddVoicePipeline().AddTogether();
        _provider = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        _provider.GetRequiredService<IStartupValidator>().Validate();
        return _provider;
    }

    [Fact]
    public async Task A_missing_key_is_one_clear_error_when_the_host_starts()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection([new("Together:BaseUrl", "http://127.0.0.1:9/v1")]);
        builder.Services.AddVoicePipeline().AddTogether();
        using var host = builder.Build();

        var error = (await FluentActions.Awaiting(() => host.StartAsync()).Should().ThrowAsync<OptionsValidationException>()).Which;

        error.Failures.Should().ContainSingle().Which.Should().Contain("No Together API key").And.Contain("TOGETHER_API_KEY").And.Contain("Together:ApiKey");
        error.OptionsType.Should().Be<TogetherClientOptions>();
    }

    [Fact]
    public async Task With_a_key_the_host_starts()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection([new("Together:ApiKey", Key)]);
        builder.Services.AddVoicePipeline().AddTogether();
        using var host = builder.Build();

        await host.StartAsync();
        await host.StopAsync();
    }

    [Fact]
    public void Settings_out_of_range_are_all_named_at_start()
    {
        var services = new ServiceCollection();
        services.AddSingleton(Configuration(("Together:ApiKey", Key), ("Together:MaxRetries", "-1"), ("Together:Stt:KeepAliveInterval", "00:06:00"),
            ("Together:Tts:Speed", "0")));
        services.AddVoicePipeline().AddTogether();
        using var provider = services.BuildServiceProvider();

        var act = () => provider.GetRequiredService<IStartupValidator>().Validate();

        var messages = act.Should().Throw<AggregateException>().Which.InnerExceptions.OfType<OptionsValidationException>().SelectMany(e => e.Failures).ToList();
        messages.Should().HaveCount(4, "the TTS settings take their retries from the client settings");
        messages.Should().ContainSingle(m => m.StartsWith("TogetherClientOptions.MaxRetries must be at least 0", StringComparison.Ordinal));
        messages.Should().ContainSingle(m => m.StartsWith("TogetherTtsOptions.MaxRetries must be at least 0", StringComparison.Ordinal));
        messages.Should().ContainSingle(m => m.StartsWith("TogetherSttOptions.KeepAliveInterval must be more than 0 and less than 300 s", StringComparison.Ordinal));
        messages.Should().ContainSingle(m => m.StartsWith("TogetherTtsOptions.Speed must be", StringComparison.Ordinal));
    }

    [Fact]
    public void A_value_that_does_not_parse_names_its_key()
    {
        var services = new ServiceCollection();
        services.AddSingleton(Configuration(("Together:ApiKey", Key), ("Together:RetryBaseDelay", "soon")));
        services.AddVoicePipeline().AddTogether();
        using var provider = services.BuildServiceProvider();

        var act = () => provider.GetRequiredService<IOptions<TogetherClientOptions>>().Value;

        act.Should().Throw<InvalidOperationException>().WithMessage("*Together:RetryBaseDelay ('soon')*");
    }

    [Fact]
    public void The_key_comes_from_TOGETHER_API_KEY_unless_Together_ApiKey_is_set()
    {
        OptionsOf(Configuration(("TOGETHER_API_KEY", "sk-env"))).ApiKey.Should().Be("sk-env");
        OptionsOf(Configuration(("TOGETHER_API_KEY", "sk-env"), ("Together:ApiKey", "sk-section"))).ApiKey.Should().Be("sk-section");
        OptionsOf(Configuration(("TOGETHER_API_KEY", "sk-env")), o => o.ApiKey = "sk-code").ApiKey.Should().Be("sk-code");

        static TogetherClientOptions OptionsOf(IConfiguration configuration, Action<TogetherClientOptions>? configure = null)
        {
            var services = new ServiceCollection();
            services.AddVoicePipeline().AddTogether(configuration, configure);
            using var provider = services.BuildServiceProvider();
            return provider.GetRequiredService<IOptions<TogetherClientOptions>>().Value;
        }
    }

    [Fact]
    public async Task The_key_and_url_set_once_reach_every_service()
    {
        var provider = await StartAsync(settings: [("Together:Stt:Language", "fr"), ("Together:Tts:Voice", "af_bella"), ("Together:Tts:Mode", "Sse")]);
        var stt = provider.GetRequiredService<IOptions<TogetherSttOptions>>().Value;
        var tts = provider.GetRequiredService<IOptions<TogetherTtsOptions>>().Value;

        (stt.ApiKey, stt.BaseUrl, stt.Language).Should().Be((Key, _emulator!.BaseUrl, "fr"));
        (tts.ApiKey, tts.BaseUrl, tts.Voice, tts.Mode).Should().Be((Key, _emulator.BaseUrl, "af_bella", TogetherTtsMode.Sse));
        (await provider.GetRequiredService<TogetherSpeechClient>().GetVoicesAsync()).Should().NotBeEmpty();
        var reply = await provider.GetRequiredService<IChatClient>().GetResponseAsync("Say hello.");
        reply.Text.Should().NotBeNullOrWhiteSpace();
        provider.GetRequiredKeyedService<IChatClient>(TogetherVoicePipelineBuilderExtensions.ServiceKey).Should().BeSameAs(provider.GetRequiredService<IChatClient>());
        provider.GetRequiredService<TogetherTranscriptionClient>().Should().BeSameAs(provider.GetRequiredService<TogetherTranscriptionClient>());
    }

    [Fact]
    public async Task A_task_from_the_factory_runs_a_tts_service_from_the_factory()
    {
        var provider = await StartAsync(settings: ("Together:Tts:Mode", "Rest"));
        var sink = new CollectingSink();
        var tts = provider.GetRequiredService<TogetherServiceFactory>().CreateTtsService(o => o.Voice = "af_bella");
        await using var task = provider.GetRequiredService<PipelineTaskFactory>().Create(new Pipeline(tts, sink), o => o.AudioOutSampleRate = 24_000);
        var errors = new List<ErrorFrame>();
        task.ErrorReceived += (_, e) => errors.Add(e);

        await task.QueueFramesAsync([new TtsSpeakFrame("Hello from the container."), new EndFrame()]);
        var completion = await task.RunAsync().WaitAsync(TimeSpan.FromSeconds(60));

        completion.Should().Be(PipelineCompletion.Ended);
        errors.Should().BeEmpty();
        sink.Frames.OfType<TtsAudioRawFrame>().Sum(f => f.Audio.Length).Should().BeGreaterThan(24_000, "at least half a second of speech");
        _emulator!.SpeechRequests.Should().ContainSingle().Which.Voice.Should().Be("af_bella");
    }

    [Fact]
    public async Task Each_session_gets_new_services_and_per_service_settings_are_checked()
    {
        var provider = await StartAsync();
        var factory = provider.GetRequiredService<TogetherServiceFactory>();

        factory.CreateSttService().Should().NotBeSameAs(factory.CreateSttService());
        factory.CreateSttService(o => o.Language = "de").Language.Should().Be("de");
        var act = () => factory.CreateSttService(o => o.MaxConnectAttempts = 0);
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("TogetherSttOptions.MaxConnectAttempts");
        var tts = () => factory.CreateTtsService(o => o.SessionTimeout = TimeSpan.Zero);
        tts.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("TogetherTtsOptions.SessionTimeout");
    }

    [Fact]
    public async Task Clients_from_the_container_wait_and_log_on_the_containers_clock_and_logging()
    {
        var time = new GatedTimeProvider();
        var logs = new FakeLogCollector();
        var provider = await StartAsync(services =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddLogging(b => b.AddProvider(new FakeLoggerProvider(logs)));
        });
        _emulator!.Options.SpeechFaults.RetryAfterSeconds = 20;
        _emulator.Options.SpeechFaults.FailNext(503);
        var client = provider.GetRequiredService<TogetherSpeechClient>();

        var speaking = client.SynthesizeAsync(new SpeechRequest { Input = "Later.", Model = TogetherTtsOptions.DefaultModel, Voice = "af_heart" });
        await time.TimerCreated(TimeSpan.FromSeconds(20)).WaitAsync(TimeSpan.FromSeconds(30));
        speaking.IsCompleted.Should().BeFalse("the retry waits 20 s on the container's clock");
        time.Advance(TimeSpan.FromSeconds(20));

        (await speaking.WaitAsync(TimeSpan.FromSeconds(30))).Length.Should().BeGreaterThan(44, "a WAV with audio");
        logs.GetSnapshot().Should().ContainSingle(r => r.Level == LogLevel.Warning && r.Message.Contains("attempt 1", StringComparison.Ordinal) && r.Message.Contains("503", StringComparison.Ordinal));
        provider.GetRequiredService<IOptions<TogetherClientOptions>>().Value.TimeProvider.Should().BeSameAs(time);
    }

    [Fact]
    public async Task Tasks_hand_the_containers_clock_and_logging_to_every_processor()
    {
        var time = new GatedTimeProvider();
        var provider = await StartAsync(services => services.AddSingleton<TimeProvider>(time));
        var probe = new ClockProbe();
        await using var task = provider.GetRequiredService<PipelineTaskFactory>().Create(new Pipeline(probe));

        await task.QueueFrameAsync(new EndFrame());
        (await task.RunAsync().WaitAsync(TimeSpan.FromSeconds(30))).Should().Be(PipelineCompletion.Ended);

        probe.Clock.Should().BeSameAs(time);
        probe.LoggerType.Should().NotBe("NullLogger");
    }

    /// <summary>Records the clock and logger the pipeline gave it.</summary>
    private sealed class ClockProbe : FrameProcessor
    {
        public TimeProvider? Clock { get; private set; }

        public string? LoggerType { get; private set; }

        protected override ValueTask OnStartAsync(StartFrame frame, CancellationToken cancellationToken)
        {
            (Clock, LoggerType) = (TimeProvider, Logger.GetType().Name);
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Keeps what reaches the end of the pipeline.</summary>
    private sealed class CollectingSink : FrameProcessor
    {
        private readonly List<Frame> _frames = [];

        public IReadOnlyList<Frame> Frames
        {
            get
            {
                lock (_frames)
                    return [.. _frames];
            }
        }

        protected override ValueTask ProcessFrameAsync(Frame frame, FrameDirection direction, CancellationToken cancellationToken)
        {
            lock (_frames)
                _frames.Add(frame);
            return PushFrameAsync(frame, direction, cancellationToken);
        }
    }
}
