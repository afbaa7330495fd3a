using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Kubernetes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Tests.Kubernetes;

public class KubernetesOptionsTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddLogging().AddKubernetesAdapters(configuration).BuildServiceProvider();
    }

    [Theory]
    [InlineData("ArgoHooks:Kubernetes:RestartStrategy", "rollout", "ArgoHooks:Kubernetes:RestartStrategy")]
    [InlineData("ArgoHooks:Kubernetes:Host", "not a url", "ArgoHooks:Kubernetes:Host")]
    [InlineData("ArgoHooks:Kubernetes:FieldManager", "", "ArgoHooks:Kubernetes:FieldManager")]
    [InlineData("ArgoHooks:Kubernetes:MaxRetries", "99", "ArgoHooks:Kubernetes:MaxRetries")]
    [InlineData("ArgoHooks:Kubernetes:RequestTimeout", "00:00:00", "ArgoHooks:Kubernetes:RequestTimeout")]
    public async Task Bad_options_fail_naming_the_field(string key, string value, string field)
    {
        await using var provider = Build(new() { [key] = value, ["ArgoHooks:Kubernetes:Token"] = "t" });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<KubernetesOptions>>().Value);
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_needs_a_token()
    {
        await using var provider = Build(new() { ["ArgoHooks:Kubernetes:Host"] = "http://127.0.0.1:1" });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<KubernetesOptions>>().Value);
        Assert.Contains("ArgoHooks:Kubernetes:Token", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, typeof(InferenceServiceRestarter))]
    [InlineData("inferenceservice", typeof(InferenceServiceRestarter))]
    [InlineData("deployment", typeof(DeploymentRestarter))]
    [InlineData("delete-pods", typeof(DeletePodsRestarter))]
    public async Task The_configured_strategy_is_the_restarter(string? strategy, Type expected)
    {
        var settings = new Dictionary<string, string?> { ["ArgoHooks:Kubernetes:Host"] = "http://127.0.0.1:1", ["ArgoHooks:Kubernetes:Token"] = "t" };
        if (strategy is not null)
        {
            settings["ArgoHooks:Kubernetes:RestartStrategy"] = strategy;
        }

        await using var provider = Build(settings);

        var restarter = provider.GetRequiredService<IPredictorRestarter>();

        Assert.IsType(expected, restarter);
        Assert.Equal(strategy ?? "inferenceservice", restarter.Strategy);
        Assert.NotNull(provider.GetRequiredService<IInferenceServiceStore>());
        Assert.NotNull(provider.GetRequiredService<IRolloutWatcher>());
        Assert.NotNull(provider.GetRequiredService<IPredictorPods>());
    }
}
