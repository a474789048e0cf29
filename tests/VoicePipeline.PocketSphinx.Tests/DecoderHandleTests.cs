using System.Runtime.CompilerServices;
using VoicePipeline.Tests.Shared;

namespace VoicePipeline.PocketSphinx.Tests;

[CollectionDefinition(nameof(DecoderHandleTests), DisableParallelization = true)]
public class DecoderHandleCollection;

/// <summary>The decoder's native handle: freed once on dispose, freed by the finalizer when a decoder is abandoned.</summary>
[Collection(nameof(DecoderHandleTests))]
public class DecoderHandleTests
{
    [Fact]
    public void A_disposed_decoder_frees_its_handle_at_once_and_refuses_further_use()
    {
        var before = DecoderHandle.Live;
        var decoder = new PocketSphinxDecoder();
        var live = DecoderHandle.Live;

        decoder.Dispose();
        decoder.Dispose();

        live.Should().Be(before + 1);
        DecoderHandle.Live.Should().Be(before, "dispose freed the decoder, and only once");
        FluentActions.Invoking(() => decoder.Process(new short[160])).Should().Throw<ObjectDisposedException>();
        FluentActions.Invoking(decoder.EndUtterance).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void An_abandoned_decoder_is_freed_by_the_finalizer()
    {
        var before = DecoderHandle.Live;
        Abandon();
        var abandoned = DecoderHandle.Live;

        GC.Collect();
        GC.WaitForPendingFinalizers();

        abandoned.Should().Be(before + 1, "the decoder was never disposed");
        DecoderHandle.Live.Should().Be(before, "its SafeHandle's finalizer freed the native decoder");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Abandon()
    {
        var decoder = new PocketSphinxDecoder();
        decoder.Process(TestAudio.Silence(0.1));
    }
}
