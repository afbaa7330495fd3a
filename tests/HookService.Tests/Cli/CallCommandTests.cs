using System.CommandLine;
using System.Text.RegularExpressions;
using ArgoHooks.HookService.Cli;
using ArgoHooks.HookService.Tests.Fakes;

namespace ArgoHooks.HookService.Tests.Cli;

public sealed partial class CallCommandTests : IAsyncLifetime
{
    private readonly HealerFixture fixture = new();
    private readonly FakeAuthorizer authorizer = new();
    private ServiceHost host = null!;
    private string tokenFile = "";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        host = await ServiceHost.StartWithFakesAsync(fixture, authorizer);
        tokenFile = Path.Combine(fixture.ClaimsRoot, "token");
        await File.WriteAllTextAsync(tokenFile, FakeAuthorizer.Good + "\n", Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await host.DisposeAsync();
        fixture.Dispose();
    }

    private async Task<(int Exit, string Output, string Error)> CallAsync(params string[] arguments)
    {
        var root = new RootCommand { CallCommand.Create(TimeProvider.System) };
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await CommandLine.InvokeAsync(root, ["call", .. arguments], output, error, Ct);
        return (exit, output.ToString(), error.ToString());
    }

    private string[] Defaults(params string[] more) => ["--url", host.BaseAddress.ToString(), "--namespace", "ns", "--token-file", tokenFile, .. more];

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (?<isvc>[a-z0-9-]+) (?<phase>[A-Za-z]+) (?<message>.+\.)$")]
    private static partial Regex PhaseLine();

    [Fact]
    public async Task A_succeeded_run_exits_0_after_one_line_per_phase_change()
    {
        fixture.AddInferenceService("anomaly-detector");
        await File.WriteAllBytesAsync(Path.Combine(fixture.Folder("anomaly-detector"), "model.pkl"), [1], Ct);

        var (exit, output, error) = await CallAsync(Defaults("--inference-service", "anomaly-detector", "--run-id", "job-ok"));

        Assert.True(exit == 0, output + error);
        var phases = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => PhaseLine().Match(line)).Where(match => match.Success)
            .Select(match => match.Groups["phase"].Value).ToList();
        Assert.Equal(["AwaitingArtifact", "Restarting", "Verifying", "Verified"], phases);
        Assert.Contains("run job-ok Succeeded", output);
    }

    [Fact]
    public async Task A_failed_run_exits_1()
    {
        fixture.AddInferenceService("never-written");

        var (exit, output, _) = await CallAsync(Defaults("--inference-service", "never-written", "--artifact-timeout", "1"));

        Assert.Equal(1, exit);
        Assert.Contains("never-written Failed No *.pkl, *.pickle or *.joblib file appeared", output);
    }

    [Theory]
    [InlineData("--namespace", "Not_A_Namespace")]
    [InlineData("--inference-service", "../etc")]
    [InlineData("--run-id", "UPPER")]
    [InlineData("--artifact-timeout", "0")]
    [InlineData("--artifact-timeout", "ten")]
    [InlineData("--url", "ftp://example")]
    [InlineData("--token-file", "/does/not/exist")]
    [InlineData("--no-such-option", "x")]
    public async Task Bad_usage_exits_2_without_calling_the_service(string option, string value)
    {
        var (exit, _, error) = await CallAsync([.. Defaults(), option, value]);

        Assert.Equal(2, exit);
        Assert.NotEmpty(error.Trim());
        Assert.Empty(authorizer.Calls);
    }

    [Fact]
    public async Task A_missing_namespace_or_a_repeated_name_is_bad_usage()
    {
        Assert.Equal(2, (await CallAsync("--url", host.BaseAddress.ToString())).Exit);
        Assert.Equal(2, (await CallAsync(Defaults("-i", "a", "-i", "a"))).Exit);
        Assert.Empty(authorizer.Calls);
    }

    [Fact]
    public async Task A_run_id_reused_for_a_different_request_exits_2_and_a_rejected_token_exits_1()
    {
        fixture.AddInferenceService("a");
        fixture.AddInferenceService("b");
        using var first = await host.Client.SendAsync(Api.Post("""{"namespace":"ns","inferenceServices":["a"],"runId":"taken","artifactTimeoutSeconds":1}"""), Ct);

        var conflict = await CallAsync(Defaults("--inference-service", "b", "--run-id", "taken"));
        await File.WriteAllTextAsync(tokenFile, "forged", Ct);
        var rejected = await CallAsync(Defaults("--inference-service", "b"));

        Assert.Equal(2, conflict.Exit);
        Assert.Contains("409", conflict.Error);
        Assert.Equal(1, rejected.Exit);
        Assert.Contains("401", rejected.Error);
        Assert.False(fixture.Cluster.Get("b").Annotations.ContainsKey("argohooks.io/phase"));
    }
}
