using System.CommandLine;

namespace ArgoHooks.Demo.Seed;

public static class SeedCommand
{
    public static Command Create()
    {
        var mode = new Option<string>("--deployment-mode") { Description = "RawDeployment or Serverless.", DefaultValueFactory = _ => "RawDeployment" };
        mode.AcceptOnlyFromAmong("RawDeployment", "Serverless");
        var strategy = new Option<string>("--restart-strategy") { Description = "How the hook service restarts predictors.", DefaultValueFactory = _ => "inferenceservice" };
        strategy.AcceptOnlyFromAmong("inferenceservice", "deployment", "delete-pods");
        var gate = new Option<string>("--gate") { Description = "argohooks.io/gate of the InferenceServices; strict shows the deadlock the deferred gate avoids.", DefaultValueFactory = _ => "deferred" };
        gate.AcceptOnlyFromAmong("deferred", "strict");
        var startupDelay = new Option<double>("--startup-delay") { Description = "Seconds a predictor takes to start.", DefaultValueFactory = _ => 2 };
        var command = new Command("seed", "Replay the seed: predictors start before their models; ArgoHooks verifies and heals them. Exit 0 when both are Verified and Healthy.")
        {
            mode, strategy, gate, startupDelay,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new SeedOptions
            {
                DeploymentMode = parse.GetValue(mode)!,
                RestartStrategy = parse.GetValue(strategy)!,
                Gate = parse.GetValue(gate)!,
                PredictorStartupDelay = TimeSpan.FromSeconds(Math.Clamp(parse.GetValue(startupDelay), 0, 60)),
                WaveTimeout = parse.GetValue(gate) == "strict" ? TimeSpan.FromSeconds(10) : TimeSpan.FromSeconds(30),
            };
            var result = await SeedScenario.RunAsync(options, parse.InvocationConfiguration.Output, cancellationToken);
            return result.ExitCode;
        });
        return command;
    }
}
