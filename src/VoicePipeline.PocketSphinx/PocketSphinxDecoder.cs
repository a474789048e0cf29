using System.Runtime.InteropServices;

namespace VoicePipeline.PocketSphinx;

/// <summary>A word with its time from the start of its utterance (10 ms frames).</summary>
/// <param name="Word">The word (fillers such as silence are left out; alternate pronunciations are merged).</param>
/// <param name="Start">When it starts, from the start of the utterance.</param>
/// <param name="End">When it ends.</param>
public sealed record PocketSphinxWord(string Word, TimeSpan Start, TimeSpan End);

/// <summary>
/// A streaming PocketSphinx decoder for 16 kHz mono s16 audio: start an utterance, feed audio, read the running
/// hypothesis, end it for the final text and word times. One decoder per stream; not thread-safe; dispose it.
/// </summary>
public sealed class PocketSphinxDecoder : IDisposable
{
    private readonly ArgumentsHandle _argv;
    private readonly ConfigHandle? _config;
    private readonly DecoderHandle? _decoder;
    private bool _inUtterance;
    private long _samplesBefore;      // fed in earlier utterances: the library's frame numbers keep counting across them
    private long _samplesInUtterance;

    /// <summary>Loads the models and creates a decoder.</summary>
    /// <exception cref="PocketSphinxException">The library or the model files are missing, or the decoder did not start.</exception>
    public PocketSphinxDecoder(PocketSphinxOptions? options = null)
    {
        options ??= new PocketSphinxOptions();
        foreach (var (what, path) in new[] { ("acoustic model", options.ResolvedAcousticModel), ("language model", options.ResolvedLanguageModel), ("dictionary", options.ResolvedDictionary) })
        {
            if (!File.Exists(path) && !Directory.Exists(path))
                throw new PocketSphinxException($"The PocketSphinx {what} is missing at {path}; install it with: sudo apt-get install {PocketSphinxException.Packages}");
        }

        var arguments = new List<string>
        {
            "-hmm", options.ResolvedAcousticModel,
            "-lm", options.ResolvedLanguageModel,
            "-dict", options.ResolvedDictionary,
        };
        foreach (var (name, value) in options.ExtraArguments)
            arguments.AddRange([name, value]);
        _argv = new ArgumentsHandle(arguments);
        try
        {
            SilenceLogging();
            _config = NativeMethods.CmdLnParse(IntPtr.Zero, NativeMethods.PsArgs(), _argv.Pointers.Length, _argv.Pointers, 1);
            if (_config.IsInvalid)
                throw new PocketSphinxException("PocketSphinx rejected its configuration: " + string.Join(' ', arguments));
            _decoder = NativeMethods.PsInit(_config);
            if (_decoder.IsInvalid)
                throw new PocketSphinxException("PocketSphinx could not load its models from " + options.ModelDirectory);
            _decoder.Track();
        }
        catch (DllNotFoundException exception)
        {
            Dispose();
            throw new PocketSphinxException($"The PocketSphinx library is not installed; install it with: sudo apt-get install {PocketSphinxException.Packages}", exception);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Gets the sample rate the decoder expects.</summary>
    public static int SampleRate => 16_000;

    /// <summary>Starts an utterance (done implicitly by <see cref="Process"/> when needed).</summary>
    public void StartUtterance()
    {
        var decoder = Decoder;
        if (_inUtterance)
            return;
        Check(NativeMethods.PsStartUtt(decoder), "start an utterance");
        _inUtterance = true;
    }

    /// <summary>Feeds 16 kHz mono samples of the current utterance.</summary>
    public unsafe void Process(ReadOnlySpan<short> samples)
    {
        StartUtterance();
        if (samples.IsEmpty)
            return;
        fixed (short* data = samples)
            Check(NativeMethods.PsProcessRaw(Decoder, data, (nuint)samples.Length, 0, 0), "process audio");
        _samplesInUtterance += samples.Length;
    }

    /// <summary>Returns the running hypothesis of the current utterance (empty when there is none).</summary>
    public string GetHypothesis()
    {
        var decoder = Decoder;
        return _inUtterance ? Marshal.PtrToStringUTF8(NativeMethods.PsGetHyp(decoder, out _)) ?? string.Empty : string.Empty;
    }

    /// <summary>Ends the utterance and returns its final text and words.</summary>
    public (string Text, IReadOnlyList<PocketSphinxWord> Words) EndUtterance()
    {
        var decoder = Decoder;
        if (!_inUtterance)
            return (string.Empty, []);
        Check(NativeMethods.PsEndUtt(decoder), "end the utterance");
        _inUtterance = false;
        var offsetFrames = (int)(_samplesBefore / 160); // 10 ms frames at 16 kHz
        _samplesBefore += _samplesInUtterance;
        _samplesInUtterance = 0;
        var words = new List<PocketSphinxWord>();
        var added = false;
        decoder.DangerousAddRef(ref added); // the iterator points into the decoder: it stays alive until the walk ends
        try
        {
            for (var segment = NativeMethods.PsSegIter(decoder); segment != IntPtr.Zero; segment = NativeMethods.PsSegNext(segment))
            {
                var word = Marshal.PtrToStringUTF8(NativeMethods.PsSegWord(segment)) ?? string.Empty;
                if (word.Length == 0 || word[0] is '<' or '[')
                    continue; // silence, sentence marks, noise
                var paren = word.IndexOf('(', StringComparison.Ordinal);
                if (paren > 0)
                    word = word[..paren]; // alternate pronunciation: "read(2)"
                NativeMethods.PsSegFrames(segment, out var start, out var end);
                start = Math.Max(0, start - offsetFrames);
                end = Math.Max(start, end - offsetFrames);
                words.Add(new PocketSphinxWord(word, TimeSpan.FromMilliseconds(start * 10), TimeSpan.FromMilliseconds((end + 1) * 10)));
            }
        }
        finally
        {
            if (added)
                decoder.DangerousRelease();
        }
        // The iterator frees itself when ps_seg_next reaches the end.
        return (string.Join(' ', words.Select(w => w.Word)), words);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _decoder?.Dispose();
        _config?.Dispose();
        _argv.Dispose();
    }

    private DecoderHandle Decoder
    {
        get
        {
            ObjectDisposedException.ThrowIf(_decoder is null || _decoder.IsClosed, this);
            return _decoder;
        }
    }

    // The library logs to a process-wide FILE. "-logfn" would make every decoder reopen and close it, which races
    // when decoders start and stop on several threads; logging is switched off once instead.
    private static readonly Lazy<bool> s_silenced = new(() =>
    {
        NativeMethods.ErrSetLogFile(IntPtr.Zero);
        return true;
    });

    private static void SilenceLogging() => _ = s_silenced.Value;

    private static void Check(int result, string action)
    {
        if (result < 0)
            throw new PocketSphinxException($"PocketSphinx failed to {action} ({result}).");
    }
}
