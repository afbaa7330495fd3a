using System.CommandLine;
using ArgoHooks.HookService.Cli;

// The argohooks executable: no subcommand or `serve` runs the web service; `call` is the wave-5 Job's client;
// `health` and `install-artifacts` come from ArgoHooks.Health.
var root = new RootCommand("ArgoHooks: verify and heal KServe InferenceServices whose models arrive after their predictors.");
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(CallCommand.Create(TimeProvider.System));
root.Subcommands.Add(ArgoHooks.SyncLayout.SyncLayoutCommand.Create());
foreach (var command in ArgoHooks.Health.Cli.HealthCommands.Create())
{
    root.Subcommands.Add(command);
}

ServeCommand.MakeDefault(root);
return await CommandLine.InvokeAsync(root, args, Console.Out, Console.Error);

public partial class Program;
