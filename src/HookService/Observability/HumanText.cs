using System.Globalization;

namespace ArgoHooks.HookService.Observability;

/// <summary>Durations and lists as a person would say them in a one-sentence message.</summary>
public static class HumanText
{
    public static string Duration(TimeSpan duration)
    {
        if (duration < TimeSpan.FromSeconds(1))
        {
            return Plural((int)Math.Round(duration.TotalMilliseconds), "millisecond");
        }

        var parts = new List<string>();
        if (duration.Days > 0) parts.Add(Plural(duration.Days, "day"));
        if (duration.Hours > 0) parts.Add(Plural(duration.Hours, "hour"));
        if (duration.Minutes > 0) parts.Add(Plural(duration.Minutes, "minute"));
        if (duration.Seconds > 0) parts.Add(Plural(duration.Seconds, "second"));
        return string.Join(" ", parts);
    }

    private static string Plural(int count, string unit) =>
        count.ToString(CultureInfo.InvariantCulture) + " " + unit + (count == 1 ? "" : "s");
}
