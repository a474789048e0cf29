using System.Runtime.InteropServices;

namespace VoicePipeline.EspeakNg;

/// <summary>
/// The espeak-ng 1.5x C API (<c>speak_lib.h</c>, Debian's libespeak-ng1), the few entry points used here. The library
/// keeps generator state in function statics that no call resets (pitch flutter phase, wave phase, gain control), so the
/// same text would come out a few samples different each time. For repeatable audio the library is loaded afresh for
/// each synthesis and unloaded after it: hence function pointers from <see cref="NativeLibrary"/> rather than
/// <c>LibraryImport</c>, which would keep one copy loaded for the life of the process.
/// </summary>
internal sealed unsafe class NativeMethods : IDisposable
{
    public const string EspeakNg = "libespeak-ng.so.1";

    /// <summary><c>AUDIO_OUTPUT_SYNCHRONOUS</c>: <c>espeak_Synth</c> returns once all audio went through the callback.</summary>
    public const int AudioOutputSynchronous = 2;

    /// <summary><c>espeakINITIALIZE_DONT_EXIT</c>: return an error instead of exiting the process when the data is missing.</summary>
    public const int InitializeDontExit = 0x8000;

    /// <summary><c>POS_CHARACTER</c>.</summary>
    public const int PositionCharacter = 1;

    /// <summary><c>espeakCHARS_UTF8</c>.</summary>
    public const uint CharsUtf8 = 1;

    /// <summary><c>espeakENDPAUSE</c>: a pause at the end of the text, as the command line tool adds.</summary>
    public const uint EndPause = 0x1000;

    /// <summary><c>espeakRATE</c>: words per minute.</summary>
    public const int ParameterRate = 1;

    /// <summary><c>EE_OK</c>.</summary>
    public const int Ok = 0;

    /// <summary><c>EE_NOT_FOUND</c>.</summary>
    public const int NotFound = 2;

    /// <summary><c>espeakEVENT_LIST_TERMINATED</c>.</summary>
    public const int EventListTerminated = 0;

    /// <summary><c>espeakEVENT_WORD</c>.</summary>
    public const int EventWord = 1;

    /// <summary><c>espeakEVENT_SENTENCE</c>.</summary>
    public const int EventSentence = 2;

    /// <summary><c>espeakEVENT_END</c>: the end of a clause or sentence.</summary>
    public const int EventEnd = 5;

    /// <summary><c>espeakEVENT_MSG_TERMINATED</c>.</summary>
    public const int EventMessageTerminated = 6;

    private readonly LibraryHandle _handle;

    /// <summary>Gets or sets the library to load (tests point it elsewhere to see a missing library reported).</summary>
    internal static string LibraryName { get; set; } = EspeakNg;

    private NativeMethods(LibraryHandle handle)
    {
        _handle = handle;
        Initialize = (delegate* unmanaged<int, int, byte*, int, int>)Export("espeak_Initialize");
        SetSynthCallback = (delegate* unmanaged<delegate* unmanaged<short*, int, Event*, int>, void>)Export("espeak_SetSynthCallback");
        SetVoiceByName = (delegate* unmanaged<byte*, int>)Export("espeak_SetVoiceByName");
        SetVoiceByProperties = (delegate* unmanaged<Voice*, int>)Export("espeak_SetVoiceByProperties");
        SetParameter = (delegate* unmanaged<int, int, int, int>)Export("espeak_SetParameter");
        Synth = (delegate* unmanaged<byte*, nuint, uint, int, uint, uint, uint*, IntPtr, int>)Export("espeak_Synth");
        ListVoices = (delegate* unmanaged<Voice*, Voice**>)Export("espeak_ListVoices");
        Terminate = (delegate* unmanaged<int>)Export("espeak_Terminate");
    }

    /// <summary><c>espeak_EVENT</c> on a 64-bit platform.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Event
    {
        public int Type;
        public uint UniqueIdentifier;
        public int TextPosition;   // characters (1-based) from the start of the text
        public int Length;         // the word's length in characters
        public int AudioPosition;  // ms from the start of the synthesis
        public int Sample;
        public IntPtr UserData;
        public IntPtr Id;          // union { int number; const char* name; char string[8]; }
    }

    /// <summary><c>espeak_VOICE</c> on a 64-bit platform.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Voice
    {
        public byte* Name;
        public byte* Languages;    // (priority byte, language, NUL)*, then a 0 byte
        public byte* Identifier;
        public byte Gender;
        public byte Age;
        public byte Variant;
        public byte Reserved;
        public int Score;
        public IntPtr Spare;
    }

    /// <summary><c>int espeak_Initialize(espeak_AUDIO_OUTPUT output, int buflength, const char *path, int options)</c>: the sample rate, or -1.</summary>
    public delegate* unmanaged<int, int, byte*, int, int> Initialize { get; }

    /// <summary><c>void espeak_SetSynthCallback(t_espeak_callback *SynthCallback)</c>.</summary>
    public delegate* unmanaged<delegate* unmanaged<short*, int, Event*, int>, void> SetSynthCallback { get; }

    /// <summary><c>espeak_ERROR espeak_SetVoiceByName(const char *name)</c>.</summary>
    public delegate* unmanaged<byte*, int> SetVoiceByName { get; }

    /// <summary><c>espeak_ERROR espeak_SetVoiceByProperties(espeak_VOICE *voice_spec)</c>.</summary>
    public delegate* unmanaged<Voice*, int> SetVoiceByProperties { get; }

    /// <summary><c>espeak_ERROR espeak_SetParameter(espeak_PARAMETER parameter, int value, int relative)</c>.</summary>
    public delegate* unmanaged<int, int, int, int> SetParameter { get; }

    /// <summary><c>espeak_ERROR espeak_Synth(const void *text, size_t size, unsigned int position, espeak_POSITION_TYPE position_type, unsigned int end_position, unsigned int flags, unsigned int* unique_identifier, void* user_data)</c>.</summary>
    public delegate* unmanaged<byte*, nuint, uint, int, uint, uint, uint*, IntPtr, int> Synth { get; }

    /// <summary><c>const espeak_VOICE **espeak_ListVoices(espeak_VOICE *voice_spec)</c>.</summary>
    public delegate* unmanaged<Voice*, Voice**> ListVoices { get; }

    /// <summary><c>espeak_ERROR espeak_Terminate(void)</c>.</summary>
    public delegate* unmanaged<int> Terminate { get; }

    // The library's dependencies (audio output, ~30 libraries, and the speed-up filter) stay loaded: reloading them
    // would cost ~10 ms per synthesis and they hold no state the audio depends on.
    private static readonly Lazy<IntPtr[]> s_dependencies = new(() =>
        new[] { "libpcaudio.so.0", "libsonic.so.0" }.Select(name => NativeLibrary.TryLoad(name, out var handle) ? handle : IntPtr.Zero).ToArray());

    /// <summary>Loads a fresh copy of the library (its statics as in a new process).</summary>
    /// <exception cref="DllNotFoundException">The library is not installed.</exception>
    public static NativeMethods Load()
    {
        _ = s_dependencies.Value;
        // espeak-ng's breathy variants draw noise from the C library's rand(), seeded as in a new process.
        Libc.srand(1);
        var handle = new LibraryHandle(NativeLibrary.Load(LibraryName));
        try
        {
            return new(handle);
        }
        catch
        {
            handle.Dispose(); // not the library expected: an entry point is missing
            throw;
        }
    }

    /// <summary>Unloads the library; once nothing else holds it, its state is gone.</summary>
    public void Dispose() => _handle.Dispose();

    private IntPtr Export(string name) => NativeLibrary.GetExport(_handle.DangerousGetHandle(), name);
}

/// <summary>
/// A copy of the library loaded with <see cref="NativeLibrary.Load(string)"/>: unloaded exactly once, by
/// <see cref="NativeMethods.Dispose"/> or, should a synthesis be abandoned, by the handle's finalizer.
/// </summary>
internal sealed class LibraryHandle : Microsoft.Win32.SafeHandles.SafeHandleZeroOrMinusOneIsInvalid
{
    private static long s_live;

    public LibraryHandle(IntPtr handle) : base(ownsHandle: true)
    {
        SetHandle(handle);
        Interlocked.Increment(ref s_live);
    }

    /// <summary>Gets how many loaded copies are held now (tests see every copy unloaded).</summary>
    internal static long Live => Interlocked.Read(ref s_live);

    protected override bool ReleaseHandle()
    {
        Interlocked.Decrement(ref s_live);
        NativeLibrary.Free(handle);
        return true;
    }
}

/// <summary>The C library's random generator, which espeak-ng draws noise from.</summary>
internal static partial class Libc
{
    [LibraryImport("libc.so.6", EntryPoint = "srand")]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1707", Justification = "The C name.")]
    public static partial void srand(uint seed);
}
