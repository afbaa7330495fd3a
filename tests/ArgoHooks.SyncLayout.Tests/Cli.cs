using System.CommandLine;
using System.Reflection;

namespace ArgoHooks.SyncLayout.Tests;

/// <summary>Runs `check-layout` through System.CommandLine as the argohooks executable does, capturing its output.</summary>
internal static class Cli
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static async Task<Result> RunAsync(string[] args, string? standardInput = null)
    {
        var root = new RootCommand("test root") { SyncLayoutCommand.Create(new StringReader(standardInput ?? "")) };
        var output = new StringWriter();
        var error = new StringWriter();
        var parsed = root.Parse(["check-layout", .. args]);
        var exitCode = parsed.Errors.Count > 0
            ? 2
            : await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, TestContext.Current.CancellationToken);
        return new Result(exitCode, output.ToString(), error.ToString());
    }

    public static string TestData(string name) => Path.Combine(AppContext.BaseDirectory, "testdata", name);

    public static string RepoRoot => typeof(Cli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(attribute => attribute.Key == "RepoRoot").Value!;
}
