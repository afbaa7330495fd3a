using System.CommandLine;
using System.Globalization;
using ArgoHooks.Demo.Bench;

namespace ArgoHooks.Demo.Reliability;

public static class ReliabilityRunner
{
    /// <summary>Runs the chosen scenarios in turn, printing each; returns every result.</summary>
    public static async Task<IReadOnlyList<ScenarioResult>> RunAsync(ReliabilityOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        options.Validate();
        HostFileWatchers.Disable();
        var names = options.Only.Count == 0 ? ReliabilityScenarios.Names : options.Only;
        var results = new List<ScenarioResult>();
        foreach (var name in names)
        {
            await output.WriteLineAsync($"[{name}] running ...");
            var result = await ReliabilityScenarios.RunAsync(name, options, cancellationToken);
            results.Add(result);
            await output.WriteLineAsync(Describe(result));
        }

        var failed = results.Where(result => !result.Held).Select(result => result.Name).ToList();
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{results.Count - failed.Count}/{results.Count} invariants held")
                                    + (failed.Count == 0 ? "" : ": " + string.Join(", ", failed) + " did not"));
        return results;
    }

    public static string Describe(ScenarioResult result) => string.Join('\n',
        [
            $"  injected:  {result.Injected}",
            .. result.Happened.Select((line, index) => (index == 0 ? "  happened:  " : "             ") + line),
            $"  invariant: {result.Invariant}  {Stats.Mark(result.Held)}",
            "",
        ]);
}

public static class ReliabilityCommand
{
    public static Command Create()
    {
        var quick = new Option<bool>("--quick") { Description = "Short delays, small fleets, a 10-second load (what the tests run)." };
        var only = new Option<string[]>("--scenario") { Description = "Run only this scenario (repeatable): " + string.Join(", ", ReliabilityScenarios.Names) };
        only.AcceptOnlyFromAmong([.. ReliabilityScenarios.Names]);
        var loadDuration = new Option<double?>("--load-duration") { Description = "Seconds of sustained load (default 300)." };
        var loadRate = new Option<int?>("--load-rate") { Description = "Runs per minute during the load (default 200)." };
        var growDuration = new Option<double?>("--grow-duration") { Description = "Seconds the growing artifact grows (default 20)." };
        var faultSeed = new Option<int?>("--fault-seed") { Description = "Seed of the injected API faults (which requests fail)." };
        var inferenceServices = new Option<int?>("--inference-services") { Description = "InferenceServices in the fault, kill, duplicate-caller, watch and propagation scenarios." };
        var command = new Command("reliability", "The fault matrix on the emulator: each scenario prints what was injected, what happened and whether the invariant held. Exit 1 when one did not.")
        {
            quick, only, loadDuration, loadRate, growDuration, faultSeed, inferenceServices,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var baseline = parse.GetValue(quick) ? ReliabilityOptions.Quick : new ReliabilityOptions();
            var options = new ReliabilityOptions
            {
                InferenceServices = parse.GetValue(inferenceServices) ?? baseline.InferenceServices,
                FaultSeed = parse.GetValue(faultSeed),
                PredictorStartupDelay = baseline.PredictorStartupDelay,
                SettleInterval = baseline.SettleInterval,
                PollInterval = baseline.PollInterval,
                FaultRate = baseline.FaultRate,
                GrowDuration = parse.GetValue(growDuration) is { } grow ? TimeSpan.FromSeconds(grow) : baseline.GrowDuration,
                ArtifactTimeoutSeconds = baseline.ArtifactTimeoutSeconds,
                ProgressDeadline = baseline.ProgressDeadline,
                Downtime = baseline.Downtime,
                LoadRunsPerMinute = parse.GetValue(loadRate) ?? baseline.LoadRunsPerMinute,
                LoadDuration = parse.GetValue(loadDuration) is { } load ? TimeSpan.FromSeconds(load) : baseline.LoadDuration,
                LoadInferenceServices = baseline.LoadInferenceServices,
                ScenarioTimeout = baseline.ScenarioTimeout,
                Only = parse.GetValue(only) ?? [],
            };
            try
            {
                options.Validate();
            }
            catch (ArgumentException error)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync(error.Message);
                return 2;
            }

            var results = await ReliabilityRunner.RunAsync(options, parse.InvocationConfiguration.Output, cancellationToken);
            return results.All(result => result.Held) ? 0 : 1;
        });
        return command;
    }
}
