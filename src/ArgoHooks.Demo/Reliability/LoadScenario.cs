using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using ArgoHooks.Demo.Bench;

namespace ArgoHooks.Demo.Reliability;

/// <summary>
/// Sustained load on loopback: a new run every 60/rate seconds (each for one already-verified InferenceService, so it
/// waits, finds the pods already serving the artifact, probes and records Verified), each followed by
/// GET /v1/runs/{id} every 250 ms until it ends. Reports GET latency, errors and memory at start and end.
/// </summary>
public static class LoadScenario
{
    private static readonly TimeSpan FollowInterval = TimeSpan.FromMilliseconds(250);

    public static async Task<ScenarioResult> RunAsync(ReliabilityOptions options, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.LoadDuration + options.ScenarioTimeout);
        var ct = timeout.Token;
        await using var rig = await Rig.StartAsync(options, "load", options.LoadInferenceServices, ct);
        await rig.WriteModelsAsync(ct);
        var warmUp = await rig.CallAsync("load-warm-up", ct);

        var (heapStart, rssStart) = Memory();
        var load = await DriveAsync(rig.Runs, rig.Fleet.Namespace, rig.Fleet.Names, options.LoadRunsPerMinute, options.LoadDuration, ct);
        var (heapEnd, rssEnd) = Memory();
        var outcomes = await ReliabilityScenarios.OutcomesAsync(rig, ct);
        var held = warmUp == 0 && load.Errors.Count == 0 && outcomes.Values.All(outcome => outcome.Phase == "Verified" && outcome.Restarts == 1);
        return new ScenarioResult("load",
            string.Create(CultureInfo.InvariantCulture, $"{options.LoadRunsPerMinute} runs/min for {options.LoadDuration.TotalSeconds:0} s on loopback over {options.LoadInferenceServices} verified InferenceServices; each run followed by GET /v1/runs/{{id}} every {FollowInterval.TotalMilliseconds:0} ms"),
            "no errors (every POST 202, every GET 200, every run Succeeded), no extra restart; memory reported (in-process: hook service + emulator + load generator)",
            held,
            [
                load.Describe(),
                string.Create(CultureInfo.InvariantCulture, $"GC heap after a full collection: {heapStart:0.0} MB at start → {heapEnd:0.0} MB at end; process RSS {rssStart:0.0} MB → {rssEnd:0.0} MB"),
                ReliabilityScenarios.Summary(outcomes),
            ],
            [warmUp], outcomes,
            new Dictionary<string, double>
            {
                ["runs"] = load.Runs, ["gets"] = load.Latencies.Count, ["errors"] = load.Errors.Count, ["p50Ms"] = load.P50, ["p99Ms"] = load.P99,
                ["heapStartMb"] = heapStart, ["heapEndMb"] = heapEnd, ["rssStartMb"] = rssStart, ["rssEndMb"] = rssEnd,
            });
    }

    /// <summary>What a load produced: runs started, every GET latency (ms), every error.</summary>
    public sealed record LoadFigures(int Runs, TimeSpan Elapsed, IReadOnlyList<double> Latencies, IReadOnlyList<string> Errors)
    {
        public double P50 => Stats.Percentile(Latencies, 50);
        public double P99 => Stats.Percentile(Latencies, 99);

        public string Describe() => string.Create(CultureInfo.InvariantCulture,
            $"{Runs} runs in {Elapsed.TotalSeconds:0.0} s ({Runs / Elapsed.TotalMinutes:0} runs/min); {Latencies.Count} GETs: p50 {P50:0.0} ms, p99 {P99:0.0} ms, max {Latencies.DefaultIfEmpty(double.NaN).Max():0.0} ms; errors {Errors.Count}{(Errors.Count == 0 ? "" : " (first: " + Errors[0] + ")")}");
    }

    /// <summary>Starts a run every 60/rate seconds for one of the names (round-robin) and follows each until it ends.</summary>
    public static async Task<LoadFigures> DriveAsync(
        RunClient client, string @namespace, IReadOnlyList<string> names, int runsPerMinute, TimeSpan duration, CancellationToken cancellationToken)
    {
        var time = TimeProvider.System;
        var latencies = new ConcurrentBag<double>();
        var errors = new ConcurrentBag<string>();
        var interval = TimeSpan.FromMinutes(1) / runsPerMinute;
        var runs = new List<Task>();
        var prefix = "load-" + Guid.NewGuid().ToString("N")[..6];
        var started = time.GetTimestamp();
        for (var index = 0; time.GetElapsedTime(started) < duration; index++)
        {
            runs.Add(OneRunAsync(client, @namespace, string.Create(CultureInfo.InvariantCulture, $"{prefix}-{index}"), names[index % names.Count], latencies, errors, cancellationToken));
            var next = interval * (index + 1) - time.GetElapsedTime(started);
            if (next > TimeSpan.Zero)
            {
                await Task.Delay(next, time, cancellationToken);
            }
        }

        await Task.WhenAll(runs);
        return new LoadFigures(runs.Count, time.GetElapsedTime(started), [.. latencies], [.. errors]);
    }

    private static async Task OneRunAsync(RunClient client, string @namespace, string runId, string name, ConcurrentBag<double> latencies, ConcurrentBag<string> errors, CancellationToken cancellationToken)
    {
        var posted = await client.PostRunAsync(@namespace, runId, [name], cancellationToken);
        if (posted != 202)
        {
            errors.Add($"POST {runId} answered {posted}");
            return;
        }

        while (true)
        {
            await Task.Delay(FollowInterval, TimeProvider.System, cancellationToken);
            var stopwatch = Stopwatch.StartNew();
            var (code, state) = await client.GetRunAsync(runId, cancellationToken);
            latencies.Add(stopwatch.Elapsed.TotalMilliseconds);
            if (code != 200)
            {
                errors.Add($"GET {runId} answered {code}");
                return;
            }

            if (state != "Running")
            {
                if (state != "Succeeded")
                {
                    errors.Add($"run {runId} ended {state}");
                }

                return;
            }
        }
    }

    private static (double HeapMegabytes, double RssMegabytes) Memory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return (GC.GetTotalMemory(forceFullCollection: true) / 1048576.0, Footprint.RssMegabytes(Environment.ProcessId));
    }
}
