using System.CommandLine;
using ArgoHooks.Demo.Seed;

// argohooks-demo: scenarios on the embedded cluster emulator. `seed` is the README's main job.
var root = new RootCommand("ArgoHooks scenarios on the embedded Kubernetes/KServe emulator (no cluster needed).");
root.Subcommands.Add(SeedCommand.Create());
root.Subcommands.Add(ArgoHooks.Demo.Bench.BenchCommand.Create());
root.Subcommands.Add(ArgoHooks.Demo.Reliability.ReliabilityCommand.Create());
return await root.Parse(args).InvokeAsync();
