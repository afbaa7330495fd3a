using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Tests.Fakes;

namespace ArgoHooks.HookService.Tests.Runs;

public sealed class LoggingTests
{
    [Fact]
    public async Task Every_log_line_of_a_heal_carries_the_run_id_and_the_InferenceService()
    {
        var ct = TestContext.Current.CancellationToken;
        using var fixture = new HealerFixture();
        var logs = new CapturingLoggerProvider();
        await using var host = await ServiceHost.StartWithFakesAsync(fixture, new FakeAuthorizer(), logs: logs);
        fixture.AddInferenceService("logged");
        await File.WriteAllBytesAsync(Path.Combine(fixture.Folder("logged"), "model.pkl"), [1], ct);

        using var created = await host.Client.SendAsync(Api.Post("""{"namespace":"ns","inferenceServices":["logged"],"runId":"log-run"}"""), ct);
        Assert.Equal("Succeeded", (await Api.WaitFinishedAsync(host.Client, "log-run")).State);

        var healing = logs.Entries.Where(entry => entry.Category == typeof(InferenceServiceHealer).FullName).ToList();
        Assert.NotEmpty(healing);
        Assert.All(healing, entry =>
        {
            Assert.Equal("log-run", entry.Scope["RunId"]);
            Assert.Equal("logged", entry.Scope["InferenceService"]);
            Assert.Equal("ns", entry.Scope["Namespace"]);
        });
        Assert.Contains(logs.Entries, entry => entry.Message.Contains("Restarted the predictor of logged", StringComparison.Ordinal));
    }
}
