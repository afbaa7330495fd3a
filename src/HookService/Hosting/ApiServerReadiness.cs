using k8s;

namespace ArgoHooks.HookService.Hosting;

/// <summary>Whether the Kubernetes API server answers; what /readyz reports.</summary>
public interface IApiServerReadiness
{
    Task<ReadinessResult> CheckAsync(CancellationToken cancellationToken);
}

public sealed record ReadinessResult(bool Ready, string Detail);

/// <summary>
/// Asks the API server for /version, at most once per <see cref="CacheFor"/>: kubelet probes every few
/// seconds and must not turn into API load.
/// </summary>
public sealed class ApiServerReadiness(IKubernetes kubernetes, TimeProvider time, ILogger<ApiServerReadiness> logger) : IApiServerReadiness
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim gate = new(1, 1);
    private ReadinessResult? last;
    private DateTimeOffset checkedAt;

    public async Task<ReadinessResult> CheckAsync(CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (last is not null && time.GetUtcNow() - checkedAt < CacheFor)
            {
                return last;
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(CheckTimeout);
            try
            {
                var version = await kubernetes.Version.GetCodeAsync(timeout.Token);
                last = new ReadinessResult(true, $"API server {version.GitVersion} reachable");
            }
            catch (Exception error) when (error is HttpRequestException or k8s.Autorest.HttpOperationException
                                              || (error is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                logger.LogWarning(error, "The Kubernetes API server is not reachable");
                last = new ReadinessResult(false, "The Kubernetes API server is not reachable.");
            }

            checkedAt = time.GetUtcNow();
            return last;
        }
        finally
        {
            gate.Release();
        }
    }
}
