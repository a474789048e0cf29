namespace VoicePipeline.Together.Client;

/// <summary>One setting that is out of range or missing: which, its value, and the rule it breaks.</summary>
/// <param name="Option">The setting, as <c>Type.Property</c> (for example <c>TogetherClientOptions.MaxRetries</c>).</param>
/// <param name="Value">The value it has.</param>
/// <param name="Rule">What it must be, as a sentence ending (for example <c>must be at least 0</c>).</param>
/// <param name="IsRange">Whether the value is out of a range (otherwise missing or malformed).</param>
internal readonly record struct OptionError(string Option, object? Value, string Rule, bool IsRange)
{
    /// <summary>The message: the setting, the rule and the value.</summary>
    public string Message => $"{Option} {Rule}; it is {Describe(Value)}.";

    /// <summary>The exception a constructor throws for this error (the parameter name is the setting's).</summary>
    public ArgumentException ToException() => IsRange
        ? new ArgumentOutOfRangeException(Option, Value, Message)
        : new ArgumentException(Message, Option);

    private static string Describe(object? value) => value switch
    {
        null => "null",
        string s => $"'{s}'",
        TimeSpan t => t.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "?",
    };
}

/// <summary>
/// Validates an options object once, where a client or service is built (Polly's model): every setting out of range
/// is an error naming it, never quietly corrected.
/// </summary>
internal sealed class OptionChecks(string typeName)
{
    /// <summary>The longest delay or timeout any setting takes (what Polly allows for a retry delay).</summary>
    public static readonly TimeSpan MaxTime = TimeSpan.FromDays(1);

    private readonly List<OptionError> _errors = [];

    /// <summary>Gets the errors found so far.</summary>
    public IReadOnlyList<OptionError> Errors => _errors;

    /// <summary>Throws the first error, if any (an <see cref="ArgumentOutOfRangeException"/> for a range).</summary>
    public void ThrowIfAny()
    {
        if (_errors.Count > 0)
            throw _errors[0].ToException();
    }

    /// <summary>An integer in <c>[min, max]</c>.</summary>
    public OptionChecks Range(string property, int value, int min, int max = int.MaxValue)
        => Check(value >= min && value <= max, property, value, max == int.MaxValue ? $"must be at least {min}" : $"must be between {min} and {max}", true);

    /// <summary>A delay in <c>[0, 1 day]</c>.</summary>
    public OptionChecks Delay(string property, TimeSpan value)
        => Check(value >= TimeSpan.Zero && value <= MaxTime, property, value, "must be between 0 and 1 day", true);

    /// <summary>A timeout or interval in <c>(0, max]</c> (one day unless given).</summary>
    public OptionChecks Positive(string property, TimeSpan value, TimeSpan? max = null, string? why = null)
        => Check(value > TimeSpan.Zero && value <= (max ?? MaxTime), property, value,
            $"must be more than 0 and at most {Text(max ?? MaxTime)}{(why is null ? "" : $" ({why})")}", true);

    /// <summary>A value that must not be null, empty or white space.</summary>
    public OptionChecks Required(string property, string? value)
        => Check(!string.IsNullOrWhiteSpace(value), property, value, "is required", false);

    /// <summary>An absolute http(s) or ws(s) URL.</summary>
    public OptionChecks BaseUrl(string property, Uri? value)
        => Check(value is { IsAbsoluteUri: true, Scheme: "http" or "https" or "ws" or "wss" }, property, value,
            "must be an absolute http, https, ws or wss URL", false);

    /// <summary>Any other rule.</summary>
    public OptionChecks Check(bool valid, string property, object? value, string rule, bool isRange)
    {
        if (!valid)
            _errors.Add(new OptionError($"{typeName}.{property}", value, rule, isRange));
        return this;
    }

    private static string Text(TimeSpan time) => time.TotalDays >= 1 && time.TotalDays % 1 == 0 ? $"{time.TotalDays:0} day{(time.TotalDays == 1 ? "" : "s")}"
        : time.TotalMinutes % 1 == 0 && time.TotalMinutes >= 1 ? $"{time.TotalMinutes:0} min"
        : $"{time.TotalSeconds:0.###} s";
}
