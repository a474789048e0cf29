using Microsoft.Extensions.Options;
using VoicePipeline.Vad;
using VoicePipeline.Vad.Silero;

namespace VoicePipeline.Hosting;

/// <summary>
/// Hands out Silero VAD analyzers and processors, one per session, all on one model and (by default) one shared
/// batcher running on the container's <see cref="TimeProvider"/>. The container owns the factory, and the factory
/// owns the batcher and a model it loaded.
/// </summary>
public sealed class SileroVadFactory : IDisposable
{
    private readonly SileroVadServiceOptions _options;
    private readonly SileroVadModel _model;
    private readonly bool _ownsModel;

    /// <summary>Creates the factory (the container does): loads the model and starts the batcher.</summary>
    /// <param name="options">The settings of <c>AddSileroVad</c>.</param>
    /// <param name="timeProvider">The clock of the batcher's <see cref="SileroVadBatcher.MaxWait"/>.</param>
    /// <exception cref="FileNotFoundException">The model file is missing.</exception>
    public SileroVadFactory(IOptions<SileroVadServiceOptions> options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _options = options.Value;
        _ownsModel = _options.ModelPath is not null;
        _model = _options.ModelPath is { } path ? SileroVadModel.Load(path) : SileroVadModel.Shared;
        Batcher = _options.Batched ? new SileroVadBatcher(_model, timeProvider) { MaxWait = _options.BatchMaxWait } : null;
    }

    /// <summary>Gets the batcher every analyzer shares, or null when batching is off.</summary>
    public SileroVadBatcher? Batcher { get; }

    /// <summary>Creates an analyzer for one stream (on the shared batcher when there is one).</summary>
    public SileroVadAnalyzer CreateAnalyzer() => new(_model, Batcher);

    /// <summary>Creates a VAD processor for one session over a new analyzer.</summary>
    /// <param name="parameters">The parameters; the configured <see cref="SileroVadServiceOptions.Params"/> when null.</param>
    /// <param name="name">The processor's name in logs and metrics.</param>
    public VadProcessor CreateProcessor(VadParams? parameters = null, string? name = null) => new(CreateAnalyzer(), parameters ?? _options.Params, name);

    /// <inheritdoc />
    public void Dispose()
    {
        Batcher?.Dispose();
        if (_ownsModel)
            _model.Dispose();
    }
}
