using System.Runtime.InteropServices;
using System.Text;

namespace VoicePipeline.EspeakNg;

/// <summary>A word of synthesized speech with its time in the audio.</summary>
/// <param name="Text">The word as written in the input text.</param>
/// <param name="Start">When it starts, from the start of the audio.</param>
/// <param name="End">When its sound ends (at the latest where the next word begins).</param>
public sealed record EspeakWord(string Text, TimeSpan Start, TimeSpan End);

/// <summary>The result of a synthesis: mono s16 samples at <see cref="SampleRate"/> and word timings.</summary>
public sealed class EspeakSpeech
{
    internal EspeakSpeech(short[] samples, int sampleRate, IReadOnlyList<EspeakWord> words)
    {
        Samples = samples;
        SampleRate = sampleRate;
        Words = words;
    }

    /// <summary>Gets the mono 16-bit samples.</summary>
    public short[] Samples { get; }

    /// <summary>Gets the sample rate of <see cref="Samples"/> (22050 Hz for espeak-ng's voices).</summary>
    public int SampleRate { get; }

    /// <summary>Gets the words in order, with their times within the audio.</summary>
    public IReadOnlyList<EspeakWord> Words { get; }

    /// <summary>Gets the length of the audio.</summary>
    public TimeSpan Duration => TimeSpan.FromSeconds((double)Samples.Length / SampleRate);

    /// <summary>Gets the samples as little-endian bytes (PCM s16le).</summary>
    public byte[] ToPcm16()
    {
        var bytes = new byte[Samples.Length * 2];
        for (var i = 0; i < Samples.Length; i++)
            System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(i * 2), Samples[i]);
        return bytes;
    }
}

/// <summary>
/// Speech synthesis with espeak-ng (Debian's libespeak-ng1), synchronous and offline. espeak-ng is a process-wide
/// library with one voice, one set of parameters and generator state that no call resets, so every instance shares one
/// lock and each synthesis loads the library afresh: syntheses on several threads run one after the other, and the same
/// text, voice and rate always give the same samples (the very samples <c>espeak-ng -w</c> writes).
/// </summary>
public sealed class EspeakSynthesizer
{
    /// <summary>The default voice.</summary>
    public const string DefaultVoice = "en-us";

    /// <summary>espeak-ng's normal speaking rate, in words per minute.</summary>
    public const int DefaultWordsPerMinute = 175;

    /// <summary>The slowest rate espeak-ng takes, in words per minute (slower rates are clamped to it).</summary>
    public const int MinWordsPerMinute = 80;

    /// <summary>The fastest rate used, in words per minute (faster rates are clamped to it).</summary>
    public const int MaxWordsPerMinute = 450;

    /// <summary>The sample rate of espeak-ng's voices.</summary>
    public const int SampleRate = 22_050;

    private static readonly Lock s_gate = new();
    private static Collector? s_current;      // the synthesis in progress (under s_gate)

    /// <summary>Synthesizes <paramref name="text"/>.</summary>
    /// <param name="text">Plain UTF-8 text (no SSML).</param>
    /// <param name="voice">
    /// An espeak-ng voice name or language with an optional variant, as <c>espeak-ng -v</c> takes it: <c>en-us</c>,
    /// <c>en-gb</c>, <c>en-us+f3</c>.
    /// </param>
    /// <param name="wordsPerMinute">The speaking rate, clamped to <see cref="MinWordsPerMinute"/>..<see cref="MaxWordsPerMinute"/>.</param>
    /// <returns>The audio (mono s16 at <see cref="SampleRate"/>) and the words with their times.</returns>
    /// <exception cref="EspeakException">The library or its data is missing, the voice is unknown, or the synthesis failed.</exception>
    public EspeakSpeech Synthesize(string text, string voice = DefaultVoice, int wordsPerMinute = DefaultWordsPerMinute)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentException.ThrowIfNullOrWhiteSpace(voice);
        var utf8 = new byte[Encoding.UTF8.GetByteCount(text) + 1]; // NUL-terminated
        Encoding.UTF8.GetBytes(text, utf8);
        lock (s_gate)
        {
            using var library = Load();
            var collector = new Collector();
            var started = false;
            try
            {
                Start(library);
                started = true;
                SelectVoice(library, voice);
                Check(SetParameter(library, NativeMethods.ParameterRate, Math.Clamp(wordsPerMinute, MinWordsPerMinute, MaxWordsPerMinute)), "set the rate");
                s_current = collector;
                Check(Synth(library, utf8), "synthesize");
            }
            finally
            {
                s_current = null;
                if (started)
                    Terminate(library);
            }
            if (collector.Error is not null)
                throw new EspeakException("The synthesis failed while collecting its audio: " + collector.Error.Message, collector.Error);
            return collector.Finish(text, SampleRate);
        }
    }

    private static NativeMethods Load()
    {
        try
        {
            return NativeMethods.Load();
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new EspeakException($"The espeak-ng library ({NativeMethods.LibraryName}) is not installed; install it with: sudo apt-get install {EspeakException.Packages}", exception);
        }
    }

    private static unsafe void Start(NativeMethods library)
    {
        var rate = library.Initialize(NativeMethods.AudioOutputSynchronous, 0, null, NativeMethods.InitializeDontExit);
        if (rate <= 0)
            throw new EspeakException($"espeak-ng could not load its data (error {rate}); install it with: sudo apt-get install {EspeakException.Packages}");
        if (rate != SampleRate)
            throw new EspeakException($"espeak-ng produces {rate} Hz audio; {SampleRate} Hz was expected.");
        library.SetSynthCallback(&OnSynth);
    }

    private static unsafe int SetParameter(NativeMethods library, int parameter, int value) => library.SetParameter(parameter, value, 0);

    private static unsafe int Synth(NativeMethods library, byte[] utf8)
    {
        fixed (byte* text = utf8)
            return library.Synth(text, (nuint)utf8.Length, 0, NativeMethods.PositionCharacter, 0, NativeMethods.CharsUtf8 | NativeMethods.EndPause, null, IntPtr.Zero);
    }

    private static unsafe void Terminate(NativeMethods library) => library.Terminate();

    /// <summary>
    /// Selects the voice as the espeak-ng command line does: by name or file, else by language (<c>en-gb</c>), each
    /// with an optional <c>+variant</c>. Unlike the command line, a language no voice speaks is an error, not a fallback.
    /// </summary>
    private static unsafe void SelectVoice(NativeMethods library, string voice)
    {
        var name = Encoding.UTF8.GetBytes(voice + "\0");
        int result;
        fixed (byte* p = name)
        {
            result = library.SetVoiceByName(p);
            if (result != NativeMethods.Ok && Languages(library).Contains(voice.Split('+')[0]))
            {
                var properties = new NativeMethods.Voice { Languages = p };
                result = library.SetVoiceByProperties(&properties);
            }
        }
        if (result != NativeMethods.Ok)
            throw new EspeakException(result == NativeMethods.NotFound ? $"espeak-ng has no voice '{voice}' (see: espeak-ng --voices)." : $"espeak-ng failed to select the voice '{voice}' ({result}).");
    }

    private static unsafe HashSet<string> Languages(NativeMethods library)
    {
        var languages = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var voices = library.ListVoices(null);
        for (var v = voices; v is not null && *v is not null; v++)
        {
            // (priority byte, NUL-terminated language)*, ended by a 0 priority
            for (var l = (*v)->Languages; l is not null && *l != 0; )
            {
                var language = Marshal.PtrToStringUTF8((IntPtr)(l + 1)) ?? string.Empty;
                languages.Add(language);
                l += 1 + Encoding.UTF8.GetByteCount(language) + 1;
            }
        }
        return languages;
    }

    private static void Check(int result, string action)
    {
        if (result != NativeMethods.Ok)
            throw new EspeakException($"espeak-ng failed to {action} ({result}).");
    }

    [UnmanagedCallersOnly]
    private static unsafe int OnSynth(short* samples, int count, NativeMethods.Event* events)
    {
        var collector = s_current;
        if (collector is null)
            return 1; // nothing is listening: abort
        try
        {
            if (samples is not null && count > 0)
                collector.Samples.AddRange(new ReadOnlySpan<short>(samples, count));
            for (var e = events; e is not null && e->Type != NativeMethods.EventListTerminated; e++)
            {
                if (e->Type is NativeMethods.EventWord or NativeMethods.EventEnd or NativeMethods.EventSentence or NativeMethods.EventMessageTerminated)
                    collector.Events.Add(new RawEvent(e->Type, e->TextPosition, e->Length, e->AudioPosition));
            }
            return 0;
        }
        catch (Exception exception)
        {
            // An exception must not unwind through native frames: stop the synthesis and report it afterwards.
            collector.Error = exception;
            return 1;
        }
    }

    internal readonly record struct RawEvent(int Type, int TextPosition, int Length, int AudioPositionMs);

    /// <summary>What the callback gathers during one synthesis.</summary>
    private sealed class Collector
    {
        public List<short> Samples { get; } = new(22050 * 4);

        public List<RawEvent> Events { get; } = [];

        public Exception? Error { get; set; }

        public EspeakSpeech Finish(string text, int sampleRate)
        {
            var samples = Samples.ToArray();
            var duration = TimeSpan.FromSeconds((double)samples.Length / sampleRate);
            var offsets = CharacterOffsets(text);
            var words = new List<EspeakWord>();
            for (var i = 0; i < Events.Count; i++)
            {
                var e = Events[i];
                if (e.Type != NativeMethods.EventWord || e.Length <= 0)
                    continue;
                var first = e.TextPosition - 1; // espeak counts characters from 1
                if (first < 0 || first >= offsets.Length - 1)
                    continue;
                var last = Math.Min(first + e.Length, offsets.Length - 1);
                var word = text[offsets[first]..offsets[last]].Trim();
                if (word.Length == 0)
                    continue;
                var start = TimeSpan.FromMilliseconds(e.AudioPositionMs);
                var end = duration;
                for (var j = i + 1; j < Events.Count; j++)
                {
                    if (Events[j].AudioPositionMs >= e.AudioPositionMs && Events[j].Type != NativeMethods.EventSentence)
                    {
                        end = TimeSpan.FromMilliseconds(Events[j].AudioPositionMs);
                        break;
                    }
                }
                start = Min(start, duration);
                end = Min(Max(end, start), duration);
                words.Add(new EspeakWord(word, start, SoundEnd(samples, sampleRate, start, end)));
            }
            return new EspeakSpeech(samples, sampleRate, words);
        }

        /// <summary>
        /// Where the sound within [<paramref name="start"/>, <paramref name="end"/>) ends: a word before a pause (a comma,
        /// the end of a sentence) ends where its sound does, not where the next word starts.
        /// </summary>
        private static TimeSpan SoundEnd(short[] samples, int sampleRate, TimeSpan start, TimeSpan end)
        {
            const int threshold = 328; // -40 dBFS
            var first = (int)(start.TotalSeconds * sampleRate);
            var last = Math.Min(samples.Length, (int)(end.TotalSeconds * sampleRate)) - 1;
            while (last > first && Math.Abs((int)samples[last]) < threshold)
                last--;
            if (last <= first)
                return end; // no sound found: keep espeak-ng's span
            var soundEnd = TimeSpan.FromSeconds((double)(last + 1) / sampleRate) + TimeSpan.FromMilliseconds(10);
            return Min(soundEnd, end);
        }

        private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

        private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

        /// <summary>The string index of each character (code point) espeak counts, plus the end.</summary>
        private static int[] CharacterOffsets(string text)
        {
            var offsets = new List<int>(text.Length + 1);
            var index = 0;
            foreach (var rune in text.EnumerateRunes())
            {
                offsets.Add(index);
                index += rune.Utf16SequenceLength;
            }
            offsets.Add(index);
            return offsets.ToArray();
        }
    }
}
