using System.CommandLine;
using ArgoHooks.HookService.Cli;

namespace ArgoHooks.HookService.Tests.Cli;

public sealed class RootCommandTests
{
    [Theory]
    [InlineData("caall", "--url", "http://127.0.0.1:1")]
    [InlineData("serveit")]
    public async Task A_mistyped_command_is_bad_usage_not_a_web_server(params string[] args)
    {
        var root = new RootCommand { ServeCommand.Create(), CallCommand.Create(TimeProvider.System) };
        ServeCommand.MakeDefault(root);
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = await CommandLine.InvokeAsync(root, args, output, error, TestContext.Current.CancellationToken);

        Assert.Equal(2, exit);
        Assert.Contains($"Unknown command '{args[0]}'", error.ToString());
    }
}
