using System.Globalization;
using ArgoHooks.ClusterEmulator;

namespace ArgoHooks.Demo.Bench;

/// <summary>Figures of one size: every repetition of both contenders, and the medians that are printed.</summary>
public sealed record SizeReport(int Size, IReadOnlyList<ContenderRun> ArgoHooks, IReadOnlyList<ContenderRun> Baseline)
{
    public double ArgoHooksSeconds => MedianSeconds(ArgoHooks);
    public double BaselineSeconds => MedianSeconds(Baseline);
    public double Ratio => BaselineSeconds / ArgoHooksSeconds;
    public double DetectionP50 => Stats.Percentile(ArgoHooks.SelectMany(run => run.DetectionSeconds), 50);
    public double DetectionP95 => Stats.Percentile(ArgoHooks.SelectMany(run => run.DetectionSeconds), 95);
    public double ArgoHooksRequestsPerInferenceService => Stats.Median(ArgoHooks.Select(run => run.RequestsPerInferenceService));
    public long ArgoHooksRequestsWhileWaiting => ArgoHooks.Max(run => run.RequestsWhileWaiting.Values.Sum());
    public int BaselineDoneWhileProbeFailed => Baseline.Max(run => run.DoneWhileProbeFailed ?? 0);

    private static double MedianSeconds(IReadOnlyList<ContenderRun> runs) =>
        runs.All(run => run.LastStableToAllDone is not null) ? Stats.Median(runs.Select(run => run.LastStableToAllDone!.Value.TotalSeconds)) : double.NaN;
}

public sealed record BenchReport(IReadOnlyList<SizeReport> Sizes, FootprintReport? Footprint, HealthCostReport? HealthCost);

/// <summary>`argohooks-demo bench`: ArgoHooks against the seed's approach, the service's footprint, and the health script's cost.</summary>
public static class BenchRunner
{
    public const double RatioTarget = 10;
    public const int RatioTargetSize = 20;
    public const double DetectionTargetSeconds = 1.5;
    public const double RequestsTarget = 12;

    public static async Task<BenchReport> RunAsync(BenchOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        options.Validate();
        HostFileWatchers.Disable();
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"bench: sizes {string.Join(", ", options.Sizes)}; predictor start-up {Stats.Seconds(options.PredictorStartupDelay.TotalSeconds)}; artifacts every {options.Stagger.TotalMilliseconds:0} ms, each written over {options.WriteDuration.TotalMilliseconds:0} ms in {options.WriteChunks} writes; baseline polls every {Stats.Seconds(options.BaselinePollInterval.TotalSeconds)}"));
        await output.WriteLineAsync(
            $"ArgoHooks settings: SettleInterval {Setting(options.SettleInterval, ProductArtifacts.SettleInterval)}, PollInterval {Setting(options.PollInterval, ProductArtifacts.PollInterval)}, MaxParallelInferenceServices {options.MaxParallel?.ToString(CultureInfo.InvariantCulture) ?? ProductRuns.MaxParallelInferenceServices.ToString(CultureInfo.InvariantCulture) + " (default)"}; restart strategy inferenceservice");
        await output.WriteLineAsync("each contender runs on its own emulator with identical inputs; times are relative to the moment the last artifact was completely written\n");

        var sizes = new List<SizeReport>();
        foreach (var size in options.Sizes)
        {
            var argoHooks = new List<ContenderRun>();
            var baseline = new List<ContenderRun>();
            var repetitions = options.RepetitionsFor(size);
            for (var round = 1; round <= repetitions; round++)
            {
                var ours = await Contenders.ArgoHooksAsync(options, size, round, cancellationToken);
                argoHooks.Add(ours);
                await output.WriteLineAsync(Progress(ours, round, repetitions));
                var theirs = await Contenders.BaselineAsync(options, size, round, cancellationToken);
                baseline.Add(theirs);
                await output.WriteLineAsync(Progress(theirs, round, repetitions));
            }

            var report = new SizeReport(size, argoHooks, baseline);
            sizes.Add(report);
            await output.WriteLineAsync(Table(report, repetitions));
        }

        FootprintReport? footprint = null;
        if (options.Footprint)
        {
            footprint = await Footprint.MeasureAsync(options, output, cancellationToken);
        }

        HealthCostReport? healthCost = null;
        if (options.HealthCost)
        {
            healthCost = await HealthCost.MeasureAsync(options, output, cancellationToken);
        }

        return new BenchReport(sizes, footprint, healthCost);
    }

    // The product's own defaults, so the header can never claim values the service does not use.
    private static readonly ArgoHooks.HookService.Artifacts.ArtifactOptions ProductArtifacts = new();
    private static readonly ArgoHooks.HookService.Runs.RunOptions ProductRuns = new();

    private static string Setting(TimeSpan? value, TimeSpan productDefault) =>
        value?.ToString("c", CultureInfo.InvariantCulture) ?? productDefault.ToString("c", CultureInfo.InvariantCulture) + " (default)";

    private static string Progress(ContenderRun run, int round, int repetitions) => string.Create(CultureInfo.InvariantCulture,
        $"  N={run.Size} {run.Contender,-9} repetition {round}/{repetitions}: {run.Done}/{run.Size} done, last stable → all done {(run.LastStableToAllDone is { } span ? Stats.Seconds(span.TotalSeconds) : "never")}, {run.Requests.Values.Sum()} API requests, exit {run.ExitCode}");

    public static string Table(SizeReport report, int repetitions)
    {
        var lines = new List<string>();
        void Row(string label, string ours, string theirs, string note = "") =>
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"  {label,-58} {ours,-16} {theirs,-16} {note}"));

        var size = report.Size;
        lines.Add(string.Create(CultureInfo.InvariantCulture, $"N = {size} InferenceServices ({repetitions} repetition{(repetitions == 1 ? "" : "s")}, median)"));
        Row("", "ArgoHooks", "baseline");
        var ratioHeld = report.Ratio >= RatioTarget;
        Row("last artifact stable → all verified (baseline: all done)", Stats.Seconds(report.ArgoHooksSeconds), Stats.Seconds(report.BaselineSeconds),
            $"ratio {Stats.Number(report.Ratio)}×" + (size == RatioTargetSize ? $"  {Stats.Mark(ratioHeld)} target ≥{RatioTarget:0}× at {RatioTargetSize}" : ""));
        var baselineDetection = report.Baseline.SelectMany(run => run.DetectionSeconds).ToList();
        Row("artifact detection p50 / p95 (stable → restart)",
            $"{Stats.Number(report.DetectionP50, "0.00")} / {Stats.Number(report.DetectionP95, "0.00")} s",
            $"{Stats.Number(Stats.Percentile(baselineDetection, 50), "0.00")} / {Stats.Number(Stats.Percentile(baselineDetection, 95), "0.00")} s",
            $"{Stats.Mark(report.DetectionP50 <= DetectionTargetSeconds)} target p50 ≤{DetectionTargetSeconds} s");
        Row("Kubernetes API requests per InferenceService per run", Stats.Number(report.ArgoHooksRequestsPerInferenceService),
            Stats.Number(Stats.Median(report.Baseline.Select(run => run.RequestsPerInferenceService))),
            $"{Stats.Mark(report.ArgoHooksRequestsPerInferenceService <= RequestsTarget)} target ≤{RequestsTarget:0}");
        Row("  by verb", ByVerb(report.ArgoHooks), ByVerb(report.Baseline));
        foreach (var run in report.ArgoHooks.Take(1))
        {
            Row("  by resource (ArgoHooks, first repetition)", ByResource(run), "");
        }

        var window = report.ArgoHooks.Min(run => run.WaitingWindow).TotalSeconds;
        Row(string.Create(CultureInfo.InvariantCulture, $"API requests while waiting for artifacts ({window:0.0} s window)"),
            report.ArgoHooksRequestsWhileWaiting.ToString(CultureInfo.InvariantCulture),
            report.Baseline.Max(run => run.RequestsWhileWaiting.Values.Sum()).ToString(CultureInfo.InvariantCulture),
            $"{Stats.Mark(report.ArgoHooksRequestsWhileWaiting == 0)} target: no API polling while waiting");
        Row("verified (baseline: reported done) / N",
            $"{report.ArgoHooks.Min(run => run.Done)}/{size}", $"{report.Baseline.Min(run => run.Done)}/{size}");
        Row("restarts per InferenceService (new pods seen in the cluster)", RestartRange(report.ArgoHooks), RestartRange(report.Baseline));
        Row("baseline: reported done while the model probe still failed", "", $"{report.BaselineDoneWhileProbeFailed}/{size}");
        Row("done while a pod serves a partial copy of the model file", $"{report.ArgoHooks.Max(run => run.DoneWithPartialModel)}/{size}", $"{report.Baseline.Max(run => run.DoneWithPartialModel)}/{size}");
        return string.Join('\n', lines) + "\n";
    }

    private static string ByVerb(IReadOnlyList<ContenderRun> runs)
    {
        var first = runs[0];
        return string.Join(", ", first.Requests.GroupBy(pair => pair.Key.Verb).OrderByDescending(group => group.Sum(pair => pair.Value))
            .Select(group => string.Create(CultureInfo.InvariantCulture, $"{group.Key} {group.Sum(pair => pair.Value) / (double)first.Size:0.##}")));
    }

    private static string ByResource(ContenderRun run) =>
        string.Join(", ", run.Requests.OrderByDescending(pair => pair.Value)
            .Select(pair => string.Create(CultureInfo.InvariantCulture, $"{pair.Key.Verb} {pair.Key.Resource} {pair.Value / (double)run.Size:0.##}")));

    private static string RestartRange(IReadOnlyList<ContenderRun> runs)
    {
        var all = runs.SelectMany(run => run.Restarts.Values).ToList();
        return all.Min() == all.Max() ? all.Min().ToString(CultureInfo.InvariantCulture) : $"{all.Min()}–{all.Max()}";
    }
}
