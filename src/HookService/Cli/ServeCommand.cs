using System.CommandLine;
using ArgoHooks.HookService.Hosting;

namespace ArgoHooks.HookService.Cli;

/// <summary>`argohooks [serve] [--urls ...] [--ArgoHooks:...=...]`: the web service. Unknown tokens go to ASP.NET configuration.</summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var command = new Command("serve", "Run the hook service (the default when no command is given). Other arguments are ASP.NET configuration, e.g. --urls.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction(RunAsync);
        return command;
    }

    public static void MakeDefault(RootCommand root)
    {
        root.TreatUnmatchedTokensAsErrors = false;
        root.SetAction(async (parseResult, cancellationToken) =>
        {
            // Configuration arguments start with '-' (--urls, --ArgoHooks:...); a bare first word is a mistyped
            // command, and starting a web server in a Job that meant `call` would never end.
            if (parseResult.UnmatchedTokens is [{ } first, ..] && !first.StartsWith('-'))
            {
                await parseResult.InvocationConfiguration.Error.WriteLineAsync(
                    $"Unknown command '{first}'; the commands are serve, call, health and install-artifacts (see --help).");
                return CommandLine.UsageError;
            }

            return await RunAsync(parseResult, cancellationToken);
        });
    }

    private static async Task<int> RunAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        await using var app = HookServiceApp.Build([.. parseResult.UnmatchedTokens]);
        await app.StartAsync(cancellationToken);
        await app.WaitForShutdownAsync(cancellationToken);
        return 0;
    }
}
