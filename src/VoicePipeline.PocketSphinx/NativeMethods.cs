using System.Runtime.InteropServices;

namespace VoicePipeline.PocketSphinx;

/// <summary>
/// The PocketSphinx 5prealpha C API (Debian's libpocketsphinx3 and libsphinxbase3), non-variadic entry points only.
/// Owned objects come back as <see cref="System.Runtime.InteropServices.SafeHandle"/>s (<see cref="DecoderHandle"/>,
/// <see cref="ConfigHandle"/>); borrowed pointers (strings, the segment iterator the library frees itself) stay IntPtr.
/// </summary>
internal static partial class NativeMethods
{
    public const string PocketSphinx = "libpocketsphinx.so.3";
    public const string SphinxBase = "libsphinxbase.so.3";

    [LibraryImport(PocketSphinx, EntryPoint = "ps_args")]
    public static partial IntPtr PsArgs();

    [LibraryImport(SphinxBase, EntryPoint = "cmd_ln_parse_r")]
    public static partial ConfigHandle CmdLnParse(IntPtr config, IntPtr definitions, int argc, IntPtr[] argv, int strict);

    [LibraryImport(SphinxBase, EntryPoint = "cmd_ln_free_r")]
    public static partial int CmdLnFree(IntPtr config);

    [LibraryImport(SphinxBase, EntryPoint = "err_set_logfp")]
    public static partial void ErrSetLogFile(IntPtr file);

    [LibraryImport(PocketSphinx, EntryPoint = "ps_init")]
    public static partial DecoderHandle PsInit(ConfigHandle config);

    [LibraryImport(PocketSphinx, EntryPoint = "ps_free")]
    public static partial int PsFree(IntPtr decoder);

    [LibraryImport(PocketSphinx, EntryPoint = "ps_start_utt")]
    public static partial int PsStartUtt(DecoderHandle decoder);

    [LibraryImport(PocketSphinx, EntryPoint = "ps_process_raw")]
    public static unsafe partial int PsProcessRaw(DecoderHandle decoder, short* data, nuint samples, int noSearch, int fullUtterance);

    [LibraryImport(PocketSphinx, EntryPoint = "ps_end_utt")]
    public static partial int PsEndUtt(DecoderHandle decoder);

    [LibraryImport(PocketSphinx, EntryPoint = "ps_get_hyp")]
    public static partial IntPtr PsGetHyp(DecoderHandle decoder, out int score);

    [LibraryImport(PocketSphinx, EntryPoint = "ps_seg_iter")]
    public static partial IntPtr PsSegIter(DecoderHandle decoder);

    [LibraryImport(PocketSphinx, EntryPoint = "ps_seg_next")]
    public static partial IntPtr PsSegNext(IntPtr segment);

    [LibraryImport(PocketSphinx, EntryPoint = "ps_seg_word")]
    public static partial IntPtr PsSegWord(IntPtr segment);

    [LibraryImport(PocketSphinx, EntryPoint = "ps_seg_frames")]
    public static partial void PsSegFrames(IntPtr segment, out int startFrame, out int endFrame);

    [LibraryImport(PocketSphinx, EntryPoint = "ps_seg_free")]
    public static partial void PsSegFree(IntPtr segment);
}
