using ArgoHooks.ClusterEmulator;
using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Kubernetes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ArgoHooks.HookService.Tests.Kubernetes;

public class EmulatorKubeconfigTests
{
    [Fact]
    public async Task Without_a_host_override_the_kubeconfig_is_used()
    {
        if (Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST") is { Length: > 0 })
        {
            Assert.Skip("Running inside a Kubernetes pod: the in-cluster configuration takes precedence over a kubeconfig.");
        }

        await using var cluster = await EmulatedCluster.StartAsync(new EmulatorOptions { Namespaces = ["team-a"] }, TestContext.Current.CancellationToken);
        await cluster.ApplyAsync(EmulatorHarness.InferenceService("from-kubeconfig"), TestContext.Current.CancellationToken);
        var folder = Directory.CreateTempSubdirectory("argohooks-kubeconfig-");
        try
        {
            var path = cluster.WriteKubeconfig(Path.Combine(folder.FullName, "config"));
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ArgoHooks:Kubernetes:Kubeconfig"] = path,
            }).Build();
            await using var provider = new ServiceCollection().AddLogging().AddKubernetesAdapters(configuration).BuildServiceProvider();

            var listed = await provider.GetRequiredService<IInferenceServiceStore>().ListAsync("team-a", TestContext.Current.CancellationToken);

            Assert.Equal("from-kubeconfig", Assert.Single(listed).Name);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
