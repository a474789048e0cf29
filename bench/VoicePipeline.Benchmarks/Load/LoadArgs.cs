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

    /// <summary>Refuses anything in <paramref name="args"/> but the <paramref name="options"/> (each with a value) and the <paramref name="flags"/>.</summary>
    /// <exception cref="ArgumentException">An argument is not one of them, or an option has no value.</exception>
    public static void RejectUnknown(string benchmark, string[] args, string[] options, string[] flags)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (options.Contains(args[i]))
            {
                if (++i == args.Length)
                    throw new ArgumentException($"{benchmark}: {args[i - 1]} needs a value");
            }
            else if (!flags.Contains(args[i]))
            {
                throw new ArgumentException($"{benchmark}: unknown argument '{args[i]}' (options: {string.Join(' ', options.Select(o => o + " VALUE").Concat(flags))}, and --json)");
            }
        }
    }
}
