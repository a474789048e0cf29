using Microsoft.Extensions.AI;

namespace VoicePipeline.AI;

/// <summary>Helpers for the functions an <see cref="LlmService"/> runs.</summary>
public static class LlmFunctions
{
    /// <summary>
    /// Marks <paramref name="function"/> uninterruptible: a call already running when the user interrupts finishes, and
    /// its result still goes into the conversation (for a booking, a payment, anything that must not stop half way).
    /// </summary>
    public static AIFunction AsUninterruptible(this AIFunction function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return IsUninterruptible(function) ? function : new UninterruptibleFunction(function);
    }

    /// <summary>Gets whether <paramref name="function"/> (or a function it wraps) was marked with <see cref="AsUninterruptible"/>.</summary>
    public static bool IsUninterruptible(AIFunction function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return function.GetService(typeof(UninterruptibleFunction)) is not null;
    }

    private sealed class UninterruptibleFunction(AIFunction inner) : DelegatingAIFunction(inner);
}
