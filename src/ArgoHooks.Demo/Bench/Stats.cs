using System.Globalization;

namespace ArgoHooks.Demo.Bench;

internal static class Stats
{
    /// <summary>Nearest-rank percentile (p in 0..100) of the values; NaN when there are none.</summary>
    public static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static double Median(IEnumerable<double> values) => Percentile(values, 50);

    public static string Seconds(double seconds) =>
        double.IsNaN(seconds) ? "n/a" : seconds.ToString(seconds >= 100 ? "0" : seconds >= 10 ? "0.0" : "0.00", CultureInfo.InvariantCulture) + " s";

    public static string Number(double value, string format = "0.0") =>
        double.IsNaN(value) ? "n/a" : value.ToString(format, CultureInfo.InvariantCulture);

    public static string Mark(bool held) => held ? "✓" : "✗";

    /// <summary>after − before, per key, without the keys that did not change.</summary>
    public static Dictionary<TKey, long> Difference<TKey>(IReadOnlyDictionary<TKey, long> before, IReadOnlyDictionary<TKey, long> after)
        where TKey : notnull =>
        after.Select(pair => (pair.Key, Delta: pair.Value - before.GetValueOrDefault(pair.Key)))
            .Where(entry => entry.Delta != 0)
            .ToDictionary(entry => entry.Key, entry => entry.Delta);
}
