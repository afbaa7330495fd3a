using System.CommandLine;

namespace ArgoHooks.HookService.Cli;

public static class CommandLine
{
    /// <summary>Exit code for bad usage (unknown option, missing or invalid value).</summary>
    public const int UsageError = 2;

    /// <summary>Parses and runs; parse errors print what is wrong and exit 2 (System.CommandLine's own default is 1).</summary>
    public static async Task<int> InvokeAsync(RootCommand root, string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var problem in parsed.Errors)
            {
                await error.WriteLineAsync(problem.Message);
            }

            await error.WriteLineAsync("Run 'argohooks --help' for usage.");
            return UsageError;
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken);
    }
}
