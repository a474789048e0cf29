using Microsoft.Extensions.Options;
using VoicePipeline.Together.Realtime;
using VoicePipeline.Together.Speech;

namespace VoicePipeline.Hosting;

/// <summary>
/// Creates Together's frame processors, one per session (a processor runs in one pipeline once), from the settings
/// bound by <c>AddTogether</c>: the key and base URL are configured once and every service gets them. Each service
/// takes its clock and logging from the <see cref="Pipelines.PipelineTask"/> that runs it; tasks from
/// <see cref="PipelineTaskFactory"/> carry the container's.
/// </summary>
/// <remarks>Services are created, not resolved, so the container never holds on to a finished session's processors.</remarks>
public sealed class TogetherServiceFactory
{
    private readonly IOptionsMonitor<TogetherSttOptions> _stt;
    private readonly IOptionsMonitor<TogetherTtsOptions> _tts;

    /// <summary>Creates the factory (the container does).</summary>
    /// <param name="stt">The realtime STT settings (<c>Together:Stt</c> and the shared key and URL).</param>
    /// <param name="tts">The TTS settings (<c>Together:Tts</c> and the shared key and URL).</param>
    public TogetherServiceFactory(IOptionsMonitor<TogetherSttOptions> stt, IOptionsMonitor<TogetherTtsOptions> tts)
    {
        _stt = stt ?? throw new ArgumentNullException(nameof(stt));
        _tts = tts ?? throw new ArgumentNullException(nameof(tts));
    }

    /// <summary>Creates a realtime speech-to-text service with a copy of the configured settings.</summary>
    /// <param name="configure">Changes for this service only (language, model, prompt, ...).</param>
    /// <param name="name">The processor's name in logs and metrics.</param>
    /// <exception cref="ArgumentException">A setting changed by <paramref name="configure"/> is malformed (the message names it).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting changed by <paramref name="configure"/> is out of range (the message names it).</exception>
    public TogetherSttService CreateSttService(Action<TogetherSttOptions>? configure = null, string? name = null)
    {
        var options = _stt.CurrentValue.Clone();
        configure?.Invoke(options);
        return new TogetherSttService(options, name); // validates the options
    }

    /// <summary>Creates a text-to-speech service with a copy of the configured settings.</summary>
    /// <param name="configure">Changes for this service only (voice, language, speed, transport, ...).</param>
    /// <param name="name">The processor's name in logs and metrics.</param>
    /// <exception cref="ArgumentException">A setting changed by <paramref name="configure"/> is malformed (the message names it).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting changed by <paramref name="configure"/> is out of range (the message names it).</exception>
    public TogetherTtsService CreateTtsService(Action<TogetherTtsOptions>? configure = null, string? name = null)
    {
        var options = _tts.CurrentValue.Clone();
        configure?.Invoke(options);
        return new TogetherTtsService(options, name); // validates the options
    }
}
