using ArgoHooks.HookService.Healing;

namespace ArgoHooks.HookService.Runs;

/// <summary>
/// The one heal in flight for an InferenceService in this process. Other runs over the same InferenceService
/// join it: they mirror its statuses and report its outcome instead of acting themselves.
/// </summary>
internal sealed class ActingHeal(string runId)
{
    private readonly object gate = new();
    private readonly List<Action<HealStatus>> followers = [];
    private readonly TaskCompletionSource<HealStatus?> outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private HealStatus? current;

    public string RunId { get; } = runId;

    public void Publish(HealStatus status)
    {
        Action<HealStatus>[] targets;
        lock (gate)
        {
            current = status;
            targets = [.. followers];
        }

        foreach (var follower in targets)
        {
            follower(status);
        }
    }

    public void Complete(HealStatus final) => outcome.TrySetResult(final);

    /// <summary>The acting run stopped without an outcome (the process is stopping): joiners act themselves.</summary>
    public void Abandon() => outcome.TrySetResult(null);

    /// <returns>The acting run's final status, or null when it was abandoned.</returns>
    public async Task<HealStatus?> FollowAsync(Action<HealStatus> follower, CancellationToken cancellationToken)
    {
        HealStatus? now;
        lock (gate)
        {
            followers.Add(follower);
            now = current;
        }

        try
        {
            if (now is not null)
            {
                follower(now);
            }

            return await outcome.Task.WaitAsync(cancellationToken);
        }
        finally
        {
            lock (gate)
            {
                followers.Remove(follower);
            }
        }
    }
}
