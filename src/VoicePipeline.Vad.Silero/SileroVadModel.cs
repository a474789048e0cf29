using Microsoft.ML.OnnxRuntime;

namespace VoicePipeline.Vad.Silero;

/// <summary>
/// The Silero VAD v6 ONNX model in one <see cref="InferenceSession"/> shared by every stream (a session costs about
/// 10 MiB and 90 ms to create; <c>Run</c> is thread-safe). Inputs: <c>input[B,576]</c> float (64 samples of context then a
/// 512-sample window at 16 kHz; 32 + 256 at 8 kHz), <c>state[2,B,128]</c>, <c>sr</c> int64 scalar; outputs
/// <c>output[B,1]</c> (speech probability) and <c>stateN</c>.
/// </summary>
public sealed class SileroVadModel : IDisposable
{
    /// <summary>The model's file name under <c>models/</c>.</summary>
    public const string FileName = "silero_vad.onnx";

    private static readonly Lazy<SileroVadModel> s_shared = new(() => Load());
    private static readonly RunOptions s_runOptions = new();

    private SileroVadModel(InferenceSession session, string path)
    {
        Session = session;
        Path = path;
    }

    /// <summary>Gets a process-wide model loaded from the default location.</summary>
    public static SileroVadModel Shared => s_shared.Value;

    /// <summary>Gets the file the model was loaded from.</summary>
    public string Path { get; }

    internal InferenceSession Session { get; }

    /// <summary>
    /// Binds tensors to the model's inputs and outputs. Running a binding allocates nothing (<c>Run</c> with name arrays
    /// allocates about 270 bytes per call).
    /// </summary>
    internal OrtIoBinding Bind(OrtValue input, OrtValue state, OrtValue sampleRate, OrtValue output, OrtValue stateN)
    {
        var binding = Session.CreateIoBinding();
        binding.BindInput("input", input);
        binding.BindInput("state", state);
        binding.BindInput("sr", sampleRate);
        binding.BindOutput("output", output);
        binding.BindOutput("stateN", stateN);
        return binding;
    }

    /// <summary>Runs the model on a binding from <see cref="Bind"/>.</summary>
    internal void Run(OrtIoBinding binding) => Session.RunWithBinding(s_runOptions, binding);

    /// <summary>Loads the model from <paramref name="path"/>, or from <c>models/silero_vad.onnx</c> beside the application.</summary>
    /// <exception cref="FileNotFoundException">The model file is missing.</exception>
    public static SileroVadModel Load(string? path = null)
    {
        path ??= DefaultPath();
        if (!File.Exists(path))
            throw new FileNotFoundException($"The Silero VAD model was not found at {path} (models/{FileName} in the repository).", path);
        var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        return new SileroVadModel(new InferenceSession(path, options), path);
    }

    /// <inheritdoc />
    public void Dispose() => Session.Dispose();

    private static string DefaultPath()
    {
        // Beside the application (copied at build), else the repository's models/ folder above the working directory.
        var beside = System.IO.Path.Combine(AppContext.BaseDirectory, "models", FileName);
        if (File.Exists(beside))
            return beside;
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "models", FileName);
            if (File.Exists(candidate))
                return candidate;
        }
        return beside;
    }
}
