using System.CommandLine;
using System.Globalization;

namespace ArgoHooks.Demo.Bench;

public static class BenchCommand
{
    public static Command Create()
    {
        var sizes = new Option<string>("--sizes") { Description = "Comma-separated numbers of InferenceServices.", DefaultValueFactory = _ => "2,20,100" };
        var quick = new Option<bool>("--quick") { Description = "Tiny preset (3 InferenceServices, short delays, no footprint): checks the bench works, measures nothing meaningful." };
        var repetitions = new Option<int>("--repetitions") { Description = "Repetitions per size below 100 (median printed).", DefaultValueFactory = _ => 3 };
        var largeRepetitions = new Option<int>("--large-repetitions") { Description = "Repetitions for sizes of 100 and more (the sequential baseline takes minutes).", DefaultValueFactory = _ => 1 };
        var startupDelay = new Option<double>("--startup-delay") { Description = "Seconds a predictor takes to start.", DefaultValueFactory = _ => 2 };
        var stagger = new Option<double>("--stagger") { Description = "Seconds between two artifacts starting to be written.", DefaultValueFactory = _ => 0.2 };
        var writeDuration = new Option<double>("--write-duration") { Description = "Seconds each artifact takes to be written.", DefaultValueFactory = _ => 0.5 };
        var writeChunks = new Option<int>("--write-chunks") { Description = "Writes each artifact is made of (spread over --write-duration).", DefaultValueFactory = _ => 5 };
        var baselinePoll = new Option<double>("--baseline-poll") { Description = "Seconds between the baseline's looks for model.pkl (the seed: 10).", DefaultValueFactory = _ => 10 };
        var settle = new Option<double?>("--settle-interval") { Description = "ArgoHooks:Artifacts:SettleInterval in seconds (default: the product's)." };
        var poll = new Option<double?>("--poll-interval") { Description = "ArgoHooks:Artifacts:PollInterval in seconds (default: the product's)." };
        var parallel = new Option<int?>("--max-parallel") { Description = "ArgoHooks:Runs:MaxParallelInferenceServices (default: the product's)." };
        var noFootprint = new Option<bool>("--no-footprint") { Description = "Skip publishing and measuring the service process." };
        var footprintModels = new Option<int>("--footprint-models") { Description = "InferenceServices of the run driven against the published process.", DefaultValueFactory = _ => 100 };
        var footprintLoad = new Option<double>("--footprint-load") { Description = "Seconds of sustained runs (200/min) against the published process after its run (0 = none).", DefaultValueFactory = _ => 120 };
        var publishDirectory = new Option<string?>("--publish-dir") { Description = "Use this already published argohooks instead of publishing now." };
        var noHealthCost = new Option<bool>("--no-health-cost") { Description = "Skip the health script cost." };
        var repository = new Option<string?>("--repository") { Description = "Repository root (default: found above the working directory)." };
        var command = new Command("bench", "ArgoHooks against the seed's approach (poll, rollout restart, rollout status) on the emulator; footprint; health script cost.")
        {
            sizes, quick, repetitions, largeRepetitions, startupDelay, stagger, writeDuration, writeChunks, baselinePoll, settle, poll, parallel,
            noFootprint, footprintModels, footprintLoad, publishDirectory, noHealthCost, repository,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            BenchOptions options;
            if (parse.GetValue(quick))
            {
                options = BenchOptions.Quick;
            }
            else
            {
                var parsedSizes = new List<int>();
                foreach (var text in parse.GetValue(sizes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var size))
                    {
                        await parse.InvocationConfiguration.Error.WriteLineAsync($"--sizes: \"{text}\" is not a number of InferenceServices.");
                        return 2;
                    }

                    parsedSizes.Add(size);
                }

                options = new BenchOptions
                {
                    Sizes = parsedSizes,
                    Repetitions = parse.GetValue(repetitions),
                    LargeRepetitions = parse.GetValue(largeRepetitions),
                    PredictorStartupDelay = Seconds(parse.GetValue(startupDelay)),
                    Stagger = Seconds(parse.GetValue(stagger)),
                    WriteDuration = Seconds(parse.GetValue(writeDuration)),
                    WriteChunks = Math.Clamp(parse.GetValue(writeChunks), 1, 10_000),
                    BaselinePollInterval = Seconds(parse.GetValue(baselinePoll)),
                    SettleInterval = parse.GetValue(settle) is { } s ? Seconds(s) : null,
                    PollInterval = parse.GetValue(poll) is { } p ? Seconds(p) : null,
                    MaxParallel = parse.GetValue(parallel),
                    Footprint = !parse.GetValue(noFootprint),
                    FootprintModels = parse.GetValue(footprintModels),
                    FootprintLoadDuration = Seconds(parse.GetValue(footprintLoad)),
                    PublishDirectory = parse.GetValue(publishDirectory),
                    HealthCost = !parse.GetValue(noHealthCost),
                    RepositoryRoot = parse.GetValue(repository),
                };
            }

            try
            {
                options.Validate();
            }
            catch (ArgumentException error)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync(error.Message);
                return 2;
            }

            await BenchRunner.RunAsync(options, parse.InvocationConfiguration.Output, cancellationToken);
            return 0;
        });
        return command;
    }

    private static TimeSpan Seconds(double value) => TimeSpan.FromSeconds(Math.Clamp(value, 0, 3600));
}
