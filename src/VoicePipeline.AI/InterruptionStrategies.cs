namespace VoicePipeline.AI;

/// <summary>Decides whether what the user said while the bot speaks is enough to interrupt it.</summary>
public interface IInterruptionStrategy
{
    /// <summary>Gets whether <paramref name="userText"/> (the user's words since they started speaking) interrupts the bot.</summary>
    bool ShouldInterrupt(string userText);
}

/// <summary>Interrupts the bot only once the user said at least <see cref="MinWords"/> words (Pipecat's <c>MinWordsInterruptionStrategy</c>).</summary>
public sealed class MinWordsInterruptionStrategy : IInterruptionStrategy
{
    /// <summary>Creates the strategy.</summary>
    public MinWordsInterruptionStrategy(int minWords)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minWords, 1);
        MinWords = minWords;
    }

    /// <summary>Gets the number of words that interrupts.</summary>
    public int MinWords { get; }

    /// <inheritdoc />
    public bool ShouldInterrupt(string userText)
        => (userText ?? string.Empty).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length >= MinWords;
}
