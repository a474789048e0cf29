using System.Runtime.CompilerServices;

namespace VoicePipeline.EspeakNg.Tests;

[CollectionDefinition(nameof(LibraryHandleTests), DisableParallelization = true)]
public class LibraryHandleCollection;

/// <summary>The loaded copy of espeak-ng is a SafeHandle: unloaded after every synthesis, and by the finalizer if abandoned.</summary>
[Collection(nameof(LibraryHandleTests))]
public class LibraryHandleTests
{
    [Fact]
    public void Every_synthesis_unloads_the_copy_it_loaded()
    {
        var before = LibraryHandle.Live;

        new EspeakSynthesizer().Synthesize("one two three");

        LibraryHandle.Live.Should().Be(before);
    }

    [Fact]
    public void An_abandoned_copy_is_unloaded_by_the_finalizer()
    {
        var before = LibraryHandle.Live;
        Abandon();
        var abandoned = LibraryHandle.Live;

        GC.Collect();
        GC.WaitForPendingFinalizers();

        abandoned.Should().Be(before + 1);
        LibraryHandle.Live.Should().Be(before, "the SafeHandle's finalizer freed the library");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Abandon() => _ = NativeMethods.Load();
}
