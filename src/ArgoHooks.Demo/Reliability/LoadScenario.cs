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
        var time = TimeProvider.System;
        await using var rig = await Rig.StartAsync(options, "load", options.LoadInferenceServices, ct);
        await rig.WriteModelsAsync(ct);
        var warmUp = await rig.CallAsync("load-warm-up", ct);

        var (heapStart, rssStart) = Memory();
        var latencies = new ConcurrentBag<double>();
        var errors = new ConcurrentBag<string>();
        var interval = TimeSpan.FromMinutes(1) / options.LoadRunsPerMinute;
        var runs = new List<Task>();
        var started = time.GetTimestamp();
        for (var index = 0; time.GetElapsedTime(started) < options.LoadDuration; index++)
        {
            var name = rig.Fleet.Names[index % rig.Fleet.Names.Count];
            runs.Add(OneRunAsync(rig, string.Create(CultureInfo.InvariantCulture, $"load-{index}"), name, latencies, errors, ct));
            var next = interval * (index + 1) - time.GetElapsedTime(started);
            if (next > TimeSpan.Zero)
            {
                await Task.Delay(next, time, ct);
            }
        }

        await Task.WhenAll(runs);
        var elapsed = time.GetElapsedTime(started);
        var (heapEnd, rssEnd) = Memory();
        var outcomes = await ReliabilityScenarios.OutcomesAsync(rig, ct);
        var p50 = Stats.Percentile(latencies, 50);
        var p99 = Stats.Percentile(latencies, 99);
        var rate = runs.Count / elapsed.TotalMinutes;
        var held = warmUp == 0 && errors.IsEmpty && outcomes.Values.All(outcome => outcome.Phase == "Verified" && outcome.Restarts == 1);
        return new ScenarioResult("load",
            string.Create(CultureInfo.InvariantCulture, $"{options.LoadRunsPerMinute} runs/min for {options.LoadDuration.TotalSeconds:0} s on loopback over {options.LoadInferenceServices} verified InferenceServices; each run followed by GET /v1/runs/{{id}} every {FollowInterval.TotalMilliseconds:0} ms"),
            "no errors (every POST 202, every GET 200, every run Succeeded), no extra restart; memory reported (in-process: hook service + emulator + load generator)",
            held,
            [
                string.Create(CultureInfo.InvariantCulture, $"{runs.Count} runs in {elapsed.TotalSeconds:0.0} s ({rate:0} runs/min); {latencies.Count} GETs: p50 {p50:0.0} ms, p99 {p99:0.0} ms, max {latencies.DefaultIfEmpty(double.NaN).Max():0.0} ms"),
                $"errors: {errors.Count}{(errors.IsEmpty ? "" : " (first: " + errors.First() + ")")}",
                string.Create(CultureInfo.InvariantCulture, $"GC heap after a full collection: {heapStart:0.0} MB at start → {heapEnd:0.0} MB at end; process RSS {rssStart:0.0} MB → {rssEnd:0.0} MB"),
                ReliabilityScenarios.Summary(outcomes),
            ],
            [warmUp], outcomes,
            new Dictionary<string, double>
            {
                ["runs"] = runs.Count, ["gets"] = latencies.Count, ["errors"] = errors.Count, ["p50Ms"] = p50, ["p99Ms"] = p99,
                ["heapStartMb"] = heapStart, ["heapEndMb"] = heapEnd, ["rssStartMb"] = rssStart, ["rssEndMb"] = rssEnd,
            });
    }

    private static async Task OneRunAsync(Rig rig, string runId, string name, ConcurrentBag<double> latencies, ConcurrentBag<string> errors, CancellationToken cancellationToken)
    {
        var posted = await rig.PostRunAsync(runId, [name], cancellationToken);
        if (posted != 202)
        {
            errors.Add($"POST {runId} answered {posted}");
            return;
        }

        while (true)
        {
            await Task.Delay(FollowInterval, TimeProvider.System, cancellationToken);
            var stopwatch = Stopwatch.StartNew();
            var (code, state) = await rig.GetRunAsync(runId, cancellationToken);
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
