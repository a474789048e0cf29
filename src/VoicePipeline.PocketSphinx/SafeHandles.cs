using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace VoicePipeline.PocketSphinx;

/// <summary>
/// A <c>ps_decoder_t*</c>: freed exactly once, by <see cref="PocketSphinxDecoder.Dispose"/> or by the finalizer of an
/// abandoned decoder, and never while a call that uses it is running on another thread.
/// </summary>
internal sealed class DecoderHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private static long s_live;

    /// <summary>Creates an empty handle (the interop marshaller fills it in).</summary>
    public DecoderHandle() : base(ownsHandle: true)
    {
    }

    /// <summary>Gets how many decoder handles hold native memory now (tests see abandoned decoders released).</summary>
    internal static long Live => Interlocked.Read(ref s_live);

    /// <summary>Counts a handle the library returned (call once it is known to be valid).</summary>
    internal void Track() => Interlocked.Increment(ref s_live);

    protected override bool ReleaseHandle()
    {
        Interlocked.Decrement(ref s_live);
        return NativeMethods.PsFree(handle) >= 0;
    }
}

/// <summary>A <c>cmd_ln_t*</c> (the decoder's configuration, reference counted by the library): released once.</summary>
internal sealed class ConfigHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    /// <summary>Creates an empty handle (the interop marshaller fills it in).</summary>
    public ConfigHandle() : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        NativeMethods.CmdLnFree(handle);
        return true;
    }
}

/// <summary>The UTF-8 argument strings of a configuration, freed once (the library copies what it keeps).</summary>
internal sealed class ArgumentsHandle : IDisposable
{
    private IntPtr[] _argv;

    public ArgumentsHandle(IEnumerable<string> arguments) => _argv = arguments.Select(Marshal.StringToCoTaskMemUTF8).ToArray();

    public IntPtr[] Pointers => _argv;

    public void Dispose()
    {
        foreach (var arg in Interlocked.Exchange(ref _argv, []))
            Marshal.FreeCoTaskMem(arg);
    }
}
