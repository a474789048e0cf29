using System.Globalization;
using System.Text;
using CsCheck;

namespace VoicePipeline.Tests.Shared;

/// <summary>
/// Generators of hostile wire input for property tests: JSON objects whose fields have the names a parser looks for
/// and values of every type and range (huge, negative, fractional, nested, null), random bytes, and byte-level
/// mutations (flips, 32-bit overwrites, truncations, insertions) of well-formed messages.
/// </summary>
internal static class HostileJson
{
    private static readonly string[] s_numbers = ["0", "-1", "1", "1.5", "-0.0", "1e308", "-1e308", "1e400", "9223372036854775808", "4294967296", "86401", "NaN", "0x10"];

    /// <summary>Any JSON value, to the given depth (strings drawn from <paramref name="strings"/> or random).</summary>
    public static Gen<string> Value(string[] strings, int depth = 2)
    {
        var scalar = Gen.OneOf(
            Gen.OneOf(s_numbers),
            Gen.Double.Select(d => d.ToString("R", CultureInfo.InvariantCulture)),
            Gen.Int.Select(i => i.ToString(CultureInfo.InvariantCulture)),
            Gen.OneOf("true", "false", "null"),
            Gen.OneOf(strings).Select(Quote),
            Gen.String[0, 40].Select(Quote));
        if (depth == 0)
            return scalar;
        var inner = Value(strings, depth - 1);
        return Gen.Frequency(
            (6, scalar),
            (2, inner.Array[0, 5].Select(items => "[" + string.Join(",", items) + "]")),
            (2, Object(strings, inner)));
    }

    /// <summary>An object whose field names come from <paramref name="names"/> (repeats allowed, as hostile servers send).</summary>
    public static Gen<string> Object(string[] names, Gen<string> value)
        => Gen.Select(Gen.OneOf(names), value).Array[0, 8]
            .Select(fields => "{" + string.Join(",", fields.Select(f => Quote(f.Item1) + ":" + f.Item2)) + "}");

    /// <summary>Hostile messages for a parser whose fields and string values are <paramref name="names"/>, plus mutations of <paramref name="seeds"/>.</summary>
    public static Gen<byte[]> Messages(string[] names, string[] seeds)
    {
        var objects = Object(names, Value(names)).Select(Encoding.UTF8.GetBytes);
        var mutated = Gen.Select(Gen.Int[0, seeds.Length - 1], Mutation.Array[1, 4])
            .Select((seed, mutations) => Mutate(Encoding.UTF8.GetBytes(seeds[seed]), mutations));
        return Gen.Frequency((4, objects), (4, mutated), (1, Gen.Byte.Array[0, 256]), (1, Gen.OneOf(seeds).Select(Encoding.UTF8.GetBytes)));
    }

    /// <summary>A byte-level change: kind (0 byte, 1 a 32-bit field, 2 truncation, 3 insertion), position, value.</summary>
    public static Gen<(int Kind, int Position, uint Value)> Mutation { get; } =
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, 4095], Gen.Frequency((1, Gen.UInt), (2, Gen.OneOf(0u, 1u, 0x22u, 0x5Cu, 0x7Bu, 0x5Bu, 0x7FFF_FFFFu, 0x8000_0000u, uint.MaxValue))));

    /// <summary>Applies <paramref name="mutations"/> to a copy of <paramref name="seed"/>.</summary>
    public static byte[] Mutate(byte[] seed, (int Kind, int Position, uint Value)[] mutations)
    {
        var bytes = new List<byte>(seed);
        foreach (var (kind, position, value) in mutations)
        {
            var at = bytes.Count == 0 ? 0 : position % bytes.Count;
            switch (kind)
            {
                case 0:
                    if (bytes.Count > 0)
                        bytes[at] = (byte)value;
                    break;
                case 1:
                    for (var i = 0; i < 4 && at + i < bytes.Count; i++)
                        bytes[at + i] = (byte)(value >> (8 * i));
                    break;
                case 2:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                default:
                    bytes.InsertRange(at, BitConverter.GetBytes(value));
                    break;
            }
        }
        return [.. bytes];
    }

    private static string Quote(string text)
    {
        var builder = new StringBuilder("\"");
        foreach (var c in text)
        {
            if (c is '"' or '\\')
                builder.Append('\\').Append(c);
            else if (c < ' ' || char.IsSurrogate(c))
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            else
                builder.Append(c);
        }
        return builder.Append('"').ToString();
    }
}
