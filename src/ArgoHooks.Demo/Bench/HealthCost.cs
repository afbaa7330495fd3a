using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using ArgoHooks.Health;

namespace ArgoHooks.Demo.Bench;

public sealed record HealthCostReport(int Objects, double NLuaPerSecond, double? GopherLuaPerSecond, string? GopherLuaNote);

/// <summary>Evaluations per second of health.lua over every testdata object, in NLua and in Argo CD's VM (the gopher-lua runner).</summary>
public static class HealthCost
{
    public static async Task<HealthCostReport> MeasureAsync(BenchOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        var repository = RepositoryRoot.Find(options.RepositoryRoot);
        var folder = Path.Combine(repository, "lua", "health", "serving.kserve.io", "InferenceService");
        var objects = Directory.EnumerateFiles(Path.Combine(folder, "testdata"), "*.yaml").Order(StringComparer.Ordinal)
            .SelectMany(file => YamlObjects.Parse(File.ReadAllText(file)).Take(1))
            .OfType<JsonObject>()
            .ToList();
        if (objects.Count == 0)
        {
            throw new InvalidOperationException($"no testdata objects under {folder}/testdata");
        }

        var nlua = MeasureNLua(objects, options.HealthCostDuration, cancellationToken);
        var runner = Path.Combine(repository, "tests", "gopher-lua-runner", "gopher-lua-runner");
        double? gopher = null;
        string? note = null;
        if (File.Exists(runner))
        {
            gopher = await MeasureGopherLuaAsync(runner, Path.Combine(folder, "health.lua"), objects, options.HealthCostDuration, cancellationToken);
        }
        else
        {
            note = $"gopher-lua runner not built ({runner}); run bash tests/gopher-lua-runner/build.sh";
        }

        var report = new HealthCostReport(objects.Count, nlua, gopher, note);
        await output.WriteLineAsync(string.Join('\n',
            $"Health script cost (health.lua over the {objects.Count} testdata objects, round-robin, single thread)",
            string.Create(CultureInfo.InvariantCulture, $"  NLua (LuaHealthEvaluator, in-process)            {nlua,10:N0} evaluations/s  ({1e6 / nlua:0} µs each)"),
            gopher is { } rate
                ? string.Create(CultureInfo.InvariantCulture, $"  gopher-lua (Argo CD's VM; runner, JSON lines)    {rate,10:N0} evaluations/s  ({1e6 / rate:0} µs each, incl. JSON decode/encode)")
                : "  gopher-lua: " + note,
            ""));
        return report;
    }

    private static double MeasureNLua(IReadOnlyList<JsonObject> objects, TimeSpan duration, CancellationToken cancellationToken)
    {
        var evaluator = new LuaHealthEvaluator();
        foreach (var item in objects)
        {
            evaluator.Evaluate(HealthScript.InferenceService, item); // warm-up
        }

        var stopwatch = Stopwatch.StartNew();
        var count = 0;
        while (stopwatch.Elapsed < duration)
        {
            cancellationToken.ThrowIfCancellationRequested();
            evaluator.Evaluate(HealthScript.InferenceService, objects[count % objects.Count]);
            count++;
        }

        return count / stopwatch.Elapsed.TotalSeconds;
    }

    /// <summary>Feeds JSON lines for about <paramref name="duration"/> (sized from a short probe run) and times the answers.</summary>
    private static async Task<double> MeasureGopherLuaAsync(string runner, string script, IReadOnlyList<JsonObject> objects, TimeSpan duration, CancellationToken cancellationToken)
    {
        var lines = objects.Select(item => item.ToJsonString()).ToList();
        var probe = await TimeRunnerAsync(runner, script, lines, lines.Count, cancellationToken);
        var count = Math.Max(lines.Count, (int)(probe.PerSecond * duration.TotalSeconds));
        return (await TimeRunnerAsync(runner, script, lines, count, cancellationToken)).PerSecond;
    }

    private static async Task<(double PerSecond, int Count)> TimeRunnerAsync(string runner, string script, IReadOnlyList<string> lines, int count, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(runner)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {runner}");
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        // One warm-up evaluation so process start-up is not counted.
        await process.StandardInput.WriteLineAsync(lines[0].AsMemory(), cancellationToken);
        await process.StandardInput.FlushAsync(cancellationToken);
        await process.StandardOutput.ReadLineAsync(cancellationToken);

        var stopwatch = Stopwatch.StartNew();
        var writer = Task.Run(async () =>
        {
            for (var index = 0; index < count; index++)
            {
                await process.StandardInput.WriteLineAsync(lines[index % lines.Count].AsMemory(), cancellationToken);
            }

            process.StandardInput.Close();
        }, cancellationToken);
        var answered = 0;
        while (await process.StandardOutput.ReadLineAsync(cancellationToken) is not null)
        {
            answered++;
        }

        var elapsed = stopwatch.Elapsed.TotalSeconds;
        await writer;
        await process.WaitForExitAsync(cancellationToken);
        if (answered != count)
        {
            throw new InvalidOperationException($"the gopher-lua runner answered {answered} of {count} objects: {await errors}");
        }

        return (answered / elapsed, answered);
    }
}
