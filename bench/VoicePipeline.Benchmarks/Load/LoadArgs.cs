using System.Globalization;

namespace VoicePipeline.Benchmarks.Load;

/// <summary>Command-line options of the load benchmarks and their helper processes.</summary>
internal static class LoadArgs
{
    /// <summary>The value after <paramref name="name"/>, if given.</summary>
    public static string? String(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    /// <summary>The number after <paramref name="name"/>, if given.</summary>
    public static double? Double(string[] args, string name) => String(args, name) is { } value ? double.Parse(value, CultureInfo.InvariantCulture) : null;

    /// <summary>The value after <paramref name="name"/>, which <paramref name="verb"/> requires.</summary>
    /// <exception cref="ArgumentException">It is missing.</exception>
    public static string Required(string verb, string[] args, string name)
        => String(args, name) ?? throw new ArgumentException($"{verb}: {name} is required");
}
