using ArgoHooks.HookService.Healing;

namespace ArgoHooks.HookService.Tests.EndToEnd;

/// <summary>What one run costs the API server, counted by the emulator (issue 6's budget: ≤ 12 requests per InferenceService).</summary>
public sealed class ApiBudgetTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_run_over_two_InferenceServices_costs_at_most_twelve_requests_each_and_reads_them_with_one_list()
    {
        await using var service = await EmulatedService.StartAsync();
        string[] names = ["budget-a", "budget-b"];
        foreach (var name in names)
        {
            await service.CreatePredictorBeforeModelAsync(name);
            await File.WriteAllBytesAsync(service.ModelFile(name), [1, 2, 3], Ct);
        }

        service.Cluster.Requests.Reset();
        var (exit, output) = await service.CallAsync("--inference-service", names[0], "--inference-service", names[1], "--run-id", "budget");

        Assert.True(exit == 0, output);
        var requests = service.Cluster.Requests.Snapshot()
            .Where(entry => entry.Key.Resource is not ("tokenreviews" or "subjectaccessreviews")) // the caller's, once per run
            .ToList();
        var perInferenceService = requests.Sum(entry => entry.Value) / (double)names.Length;
        Assert.True(perInferenceService <= 12, $"{perInferenceService} requests per InferenceService: " + string.Join(", ", requests.Select(entry => $"{entry.Key.Verb} {entry.Key.Resource} {entry.Value}")));
        Assert.Equal(0, service.Cluster.Requests.Count("get", "inferenceservices", EmulatedService.Namespace));
        Assert.Equal(1, service.Cluster.Requests.Count("list", "inferenceservices", EmulatedService.Namespace));
        Assert.All(names, name => Assert.Equal(Phases.Verified, service.Annotations(name)[ContractAnnotations.Phase]));
    }
}
