using FluentAssertions;
using VoicePipeline.Text;
using Xunit;

namespace VoicePipeline.Core.Tests.Text;

public sealed class SentenceAggregatorTests
{
    [Fact]
    public void Hands_out_each_sentence_as_soon_as_the_next_token_shows_it_ended()
    {
        var aggregator = new SentenceAggregator();
        var sentences = new List<string>();
        foreach (var token in new[] { "Hel", "lo there", ".", " How", " are you", "?", " I am", " fine", "." })
            sentences.AddRange(aggregator.Add(token));

        sentences.Should().Equal("Hello there.", "How are you?");
        aggregator.HasText.Should().BeTrue();
        aggregator.Flush().Should().Be("I am fine.");
        aggregator.HasText.Should().BeFalse();
        aggregator.Flush().Should().BeNull();
    }

    [Theory]
    [InlineData("Dr. Smith paid 3.50 dollars for it. Then he left. ", new[] { "Dr. Smith paid 3.50 dollars for it.", "Then he left." })]
    [InlineData("J. Austen wrote e.g. this! Really? ", new[] { "J. Austen wrote e.g. this!", "Really?" })]
    [InlineData("第一句。第二句！ ", new[] { "第一句。", "第二句！" })]
    [InlineData("A list\nof lines\n", new[] { "A list", "of lines" })]
    public void Does_not_split_at_abbreviations_initials_or_decimals(string text, string[] expected)
    {
        var aggregator = new SentenceAggregator();
        var sentences = text.Select(c => c.ToString()).SelectMany(aggregator.Add).ToList();
        if (aggregator.Flush() is { } rest)
            sentences.Add(rest);
        sentences.Should().Equal(expected);
    }

    [Fact]
    public void Reset_forgets_the_unfinished_sentence()
    {
        var aggregator = new SentenceAggregator();
        aggregator.Add("This was interrupt").Should().BeEmpty();
        aggregator.Reset();
        aggregator.Add("New reply. ").Should().Equal("New reply.");
        aggregator.Flush().Should().BeNull();
    }
}
