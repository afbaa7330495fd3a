using k8s;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Continuous;

/// <summary>Whether this replica may act now. Followers watch and stay ready but never act.</summary>
public interface IContinuousLeadership
{
    bool IsLeader { get; }

    /// <summary>Cancelled when the current leadership term ends (or never started).</summary>
    CancellationToken Term { get; }

    /// <summary>Raised when this replica becomes the leader (it then re-evaluates everything it knows).</summary>
    event Action? BecameLeader;

    /// <summary>Runs the election until <paramref name="cancellationToken"/> is cancelled.</summary>
    Task RunAsync(CancellationToken cancellationToken);
}

/// <summary>Leader election over a coordination.k8s.io/v1 Lease with KubernetesClient's <see cref="LeaderElector"/>.</summary>
/// <remarks>The library keeps its own wall clock (DateTime.UtcNow, Task.Delay): lease timing is not on the injected TimeProvider.</remarks>
public sealed class LeaseLeadership(
    IKubernetes client,
    IOptions<ContinuousOptions> options,
    TimeProvider time,
    ContinuousMetrics metrics,
    ILogger<LeaseLeadership> logger) : IContinuousLeadership
{
    private readonly Lock gate = new();
    private CancellationTokenSource term = Cancelled();
    private volatile bool leader;

    public string Identity { get; } = options.Value.LeaderElection.Identity is { Length: > 0 } configured
        ? configured
        : $"{(Environment.GetEnvironmentVariable("HOSTNAME") is { Length: > 0 } host ? host : Environment.MachineName)}-{Guid.NewGuid().ToString("N")[..8]}";

    public bool IsLeader => leader;

    public CancellationToken Term
    {
        get
        {
            lock (gate)
            {
                return term.Token;
            }
        }
    }

    public event Action? BecameLeader;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value.LeaderElection;
        var leaseLock = new LeaseLock(client, settings.EffectiveLeaseNamespace, settings.LeaseName, Identity);
        var config = new LeaderElectionConfig(leaseLock)
        {
            LeaseDuration = settings.LeaseDuration,
            RenewDeadline = settings.RenewDeadline,
            RetryPeriod = settings.RetryPeriod,
        };
        logger.LogInformation("Continuous verification: electing a leader with Lease {Namespace}/{Lease} as {Identity}",
            settings.EffectiveLeaseNamespace, settings.LeaseName, Identity);
        while (!cancellationToken.IsCancellationRequested)
        {
            using var elector = new LeaderElector(config);
            elector.OnStartedLeading += Start;
            elector.OnStoppedLeading += Stop;
            elector.OnNewLeader += holder => logger.LogInformation("Continuous verification leader is now {Leader}", holder);
            elector.OnError += error => logger.LogDebug(error, "Leader election attempt failed; retrying.");
            try
            {
                await elector.RunUntilLeadershipLostAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                logger.LogWarning(error, "Leader election failed; trying again after {RetryPeriod}.", settings.RetryPeriod);
            }
            finally
            {
                Stop();
            }

            try
            {
                await Task.Delay(settings.RetryPeriod, time, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
        }
    }

    private void Start()
    {
        lock (gate)
        {
            // The previous term is cancelled and may still be linked by finishing work: not disposed, just replaced.
            term = new CancellationTokenSource();
            leader = true;
        }

        metrics.Leader(true);
        logger.LogInformation("Continuous verification: {Identity} leads and acts", Identity);
        BecameLeader?.Invoke();
    }

    private void Stop()
    {
        CancellationTokenSource ended;
        lock (gate)
        {
            if (!leader)
            {
                return;
            }

            leader = false;
            ended = term;
        }

        metrics.Leader(false);
        logger.LogWarning("Continuous verification: {Identity} is no longer the leader; it stops acting", Identity);
        ended.Cancel();
    }

    private static CancellationTokenSource Cancelled()
    {
        var source = new CancellationTokenSource();
        source.Cancel();
        return source;
    }
}

/// <summary>Leader election disabled (one replica): always the leader.</summary>
public sealed class SoleLeadership(ContinuousMetrics metrics) : IContinuousLeadership
{
    public bool IsLeader => true;

    public CancellationToken Term => CancellationToken.None;

    public event Action? BecameLeader;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        metrics.Leader(true);
        BecameLeader?.Invoke();
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (cancellationToken.Register(() => stopped.TrySetResult()))
        {
            await stopped.Task;
        }

        metrics.Leader(false);
    }
}
