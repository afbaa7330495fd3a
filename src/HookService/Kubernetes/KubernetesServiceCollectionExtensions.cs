using ArgoHooks.HookService.Healing;
using k8s;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Kubernetes;

public static class KubernetesServiceCollectionExtensions
{
    /// <summary>
    /// Registers ArgoHooks:Kubernetes options (validated on start), the one <see cref="IKubernetes"/> client with the
    /// resilience handler, and the ports: <see cref="IInferenceServiceStore"/>, <see cref="IPredictorRestarter"/>
    /// (the configured strategy), <see cref="IRolloutWatcher"/>, <see cref="IPredictorPods"/>.
    /// </summary>
    public static IServiceCollection AddKubernetesAdapters(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<KubernetesOptions>().Bind(configuration.GetSection(KubernetesOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KubernetesOptions>, KubernetesOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(provider => new KubernetesApiMetrics(
            provider.GetService<System.Diagnostics.Metrics.IMeterFactory>(), provider.GetService<ArgoHooks.HookService.Observability.HookMetrics>()));
        services.TryAddSingleton<KubernetesResiliencePipeline>();
        services.TryAddTransient<KubernetesResilienceHandler>();
        services.TryAddSingleton<IKubernetes>(provider => KubernetesClientFactory.Create(
            provider.GetRequiredService<IOptions<KubernetesOptions>>(), provider.GetRequiredService<KubernetesResilienceHandler>()));

        services.TryAddSingleton<KubernetesEventRecorder>();
        services.TryAddSingleton<InferenceServiceStore>();
        services.TryAddSingleton<IInferenceServiceStore>(provider => provider.GetRequiredService<InferenceServiceStore>());
        services.TryAddSingleton<RestartSupport>();
        services.TryAddSingleton<InferenceServiceRestarter>();
        services.TryAddSingleton<DeploymentRestarter>();
        services.TryAddSingleton<DeletePodsRestarter>();
        services.TryAddSingleton<IPredictorRestarter>(provider => provider.GetRequiredService<IOptions<KubernetesOptions>>().Value.RestartStrategy switch
        {
            RestartStrategies.Deployment => provider.GetRequiredService<DeploymentRestarter>(),
            RestartStrategies.DeletePods => provider.GetRequiredService<DeletePodsRestarter>(),
            _ => provider.GetRequiredService<InferenceServiceRestarter>(),
        });
        services.TryAddSingleton<IRolloutWatcher, RolloutWatcher>();
        services.TryAddSingleton<IPredictorPods, PredictorPods>();
        return services;
    }
}
