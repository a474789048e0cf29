using VoicePipeline.Together.Transcriptions;

namespace VoicePipeline.Together.Tests.Transcriptions;

public class SubtitlesTests
{
    private static readonly TranscriptionResult s_result = new()
    {
        Segments =
        [
            new TranscriptionSegment { Id = 0, Start = 0.5, End = 2.25, Text = " Hello there." },
            new TranscriptionSegment { Id = 1, Start = 3661.007, End = 3662.5, Text = "An hour later." },
        ],
    };

    [Fact]
    public void Srt_numbers_cues_and_uses_commas()
        => Subtitles.ToSrt(s_result).Should().Be("1\n00:00:00,500 --> 00:00:02,250\nHello there.\n\n2\n01:01:01,007 --> 01:01:02,500\nAn hour later.\n\n");

    [Fact]
    public void Vtt_has_a_header_and_uses_dots()
        => Subtitles.ToVtt(s_result).Should().Be("WEBVTT\n\n00:00:00.500 --> 00:00:02.250\nHello there.\n\n01:01:01.007 --> 01:01:02.500\nAn hour later.\n\n");

    [Fact]
    public void Speaker_segments_become_labelled_cues()
    {
        var diarized = new TranscriptionResult { SpeakerSegments = [new SpeakerSegment { SpeakerId = "SPEAKER_01", Start = 1, End = 2, Text = "Hi" }] };

        Subtitles.ToVtt(diarized).Should().Contain("00:00:01.000 --> 00:00:02.000\nSPEAKER_01: Hi");
    }
}
