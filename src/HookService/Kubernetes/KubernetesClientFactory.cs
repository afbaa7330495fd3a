using k8s;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Kubernetes;

/// <summary>Builds the one IKubernetes client: Host/Token override, else in-cluster, else kubeconfig.</summary>
internal static class KubernetesClientFactory
{
    public static KubernetesClientConfiguration BuildConfiguration(KubernetesOptions options)
    {
        KubernetesClientConfiguration configuration;
        if (!string.IsNullOrWhiteSpace(options.Host))
        {
            configuration = new KubernetesClientConfiguration
            {
                Host = options.Host,
                AccessToken = options.Token,
                SkipTlsVerify = options.SkipTlsVerify,
            };
        }
        else if (KubernetesClientConfiguration.IsInCluster())
        {
            configuration = KubernetesClientConfiguration.InClusterConfig();
        }
        else
        {
            var path = options.Kubeconfig ?? Environment.GetEnvironmentVariable("KUBECONFIG")?.Split(Path.PathSeparator).FirstOrDefault(p => p.Length > 0);
            configuration = KubernetesClientConfiguration.BuildConfigFromConfigFile(path, options.Context);
        }

        // Per-attempt and overall timeouts live in the resilience pipeline (which watches bypass);
        // the client's own timeout would otherwise cancel requests behind its back.
        configuration.HttpClientTimeout = Timeout.InfiniteTimeSpan;
        return configuration;
    }

    public static IKubernetes Create(IOptions<KubernetesOptions> options, KubernetesResilienceHandler handler) =>
        new k8s.Kubernetes(BuildConfiguration(options.Value), handler);
}
