using System.Collections.Concurrent;
using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Observability;
using k8s.Autorest;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Runs;

public enum StartOutcome { Created, Existing, Conflict, ShuttingDown }

public sealed record StartResult(StartOutcome Outcome, Run? Run);

/// <summary>
/// Owns the runs of this process: creates them idempotently by runId, executes them in the background with a
/// bounded parallelism, lets a second run over an InferenceService join the one acting on it, and forgets
/// finished runs after a bounded retention. Stopping the host cancels the runs without marking them failed:
/// the annotations hold their state, and a POST with the same runId resumes them.
/// </summary>
public sealed class RunRegistry(
    InferenceServiceHealer healer,
    IInferenceServiceStore store,
    IOptionsMonitor<RunOptions> options,
    TimeProvider time,
    HookMetrics metrics,
    ILogger<RunRegistry> logger) : IHostedService
{
    private readonly ConcurrentDictionary<string, Run> runs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ActingHeal> acting = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> executions = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource stopping = new();
    private readonly Lock createGate = new();

    public StartResult Start(RunRequest request)
    {
        lock (createGate)
        {
            var id = request.RunId ?? Guid.NewGuid().ToString("N");
            if (runs.TryGetValue(id, out var existing))
            {
                return existing.Request.SameAs(request)
                    ? new StartResult(StartOutcome.Existing, existing)
                    : new StartResult(StartOutcome.Conflict, existing);
            }

            if (stopping.IsCancellationRequested)
            {
                return new StartResult(StartOutcome.ShuttingDown, null);
            }

            Prune();
            var run = new Run(request with { RunId = id }, id, time.GetUtcNow());
            runs[id] = run;
            // The run outlives the request: do not carry the request's logging scopes or activity into it.
            using (ExecutionContext.SuppressFlow())
            {
                executions[id] = Task.Run(() => ExecuteAsync(run, stopping.Token));
            }

            return new StartResult(StartOutcome.Created, run);
        }
    }

    public Run? Find(string id) => runs.TryGetValue(id, out var run) ? run : null;

    public IReadOnlyList<Run> List(string @namespace) =>
        runs.Values.Where(run => run.Namespace == @namespace).OrderByDescending(run => run.StartedAt).ToList();

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync();
        await Task.WhenAll(executions.Values).WaitAsync(cancellationToken);
    }

    private async Task ExecuteAsync(Run run, CancellationToken cancellationToken)
    {
        using var scope = logger.BeginRun(run.Id, run.Namespace);
        try
        {
            var names = run.Request.InferenceServices;
            // One LIST instead of a GET per InferenceService when there are several: the healer starts from these
            // snapshots (as fresh as a GET at the same moment would be).
            var listed = names.Count == 1 ? null
                : (await store.ListAsync(run.Namespace, cancellationToken)).ToDictionary(isvc => isvc.Name, StringComparer.Ordinal);
            if (names.Count == 0)
            {
                names = listed!.Values
                    .Where(isvc => isvc.StorageUri?.StartsWith("pvc://", StringComparison.Ordinal) == true)
                    .Select(isvc => isvc.Name)
                    .Order(StringComparer.Ordinal)
                    .ToList();
                if (names.Count == 0)
                {
                    Finish(run, $"No InferenceService in namespace {run.Namespace} has a pvc:// storageUri; name the InferenceServices in the request or check the namespace.");
                    return;
                }

                run.SetInferenceServices(names);
            }

            logger.LogInformation("Run {RunId} started for {Count} InferenceService(s) in {Namespace}", run.Id, names.Count, run.Namespace);
            // Every InferenceService waits for its artifact at once; the healer bounds the restarts (ActionSlots).
            await Task.WhenAll(names.Select(name => HealOneAsync(run, name, listed?.GetValueOrDefault(name), cancellationToken)));
            Finish(run, null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Not a failure: the process is stopping. The annotations say how far the run got; POSTing the same
            // runId to the next instance resumes it without a second restart.
            logger.LogWarning("Run {RunId} interrupted because the hook service is stopping", run.Id);
        }
        catch (Exception error)
        {
            logger.LogError(error, "Run {RunId} stopped on an unexpected error", run.Id);
            Finish(run, $"The run stopped on an unexpected error ({Describe(error)}); start it again with the same runId to resume.");
        }
    }

    private void Finish(Run run, string? failure)
    {
        run.Finish(time.GetUtcNow(), failure);
        var view = run.View();
        metrics.RunFinished(view.State == RunStates.Succeeded);
        logger.LogInformation("Run {RunId} finished: {State}", run.Id, view.State);
    }

    private async Task HealOneAsync(Run run, string name, InferenceServiceSnapshot? listed, CancellationToken cancellationToken)
    {
        var key = run.Namespace + "/" + name;
        var target = new HealTarget(run.Id, run.Namespace, name,
            run.Request.ArtifactTimeoutSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : options.CurrentValue.ArtifactTimeout, listed);
        while (true)
        {
            var mine = new ActingHeal(run.Id);
            var actingHeal = acting.GetOrAdd(key, mine);
            if (ReferenceEquals(actingHeal, mine))
            {
                await ActAsync(run, name, target, mine, key, cancellationToken);
                return;
            }

            // Whatever the acting run did changed the InferenceService: should this run act after all, it reads it afresh.
            target = target with { Snapshot = null };
            logger.LogInformation("{Name} is being healed by run {ActingRun}: run {RunId} joins it", name, actingHeal.RunId, run.Id);
            var final = await actingHeal.FollowAsync(status => run.Update(name, status, actingHeal.RunId, time.GetUtcNow()), cancellationToken);
            if (final is not null)
            {
                run.Update(name, final, actingHeal.RunId, time.GetUtcNow());
                return;
            }
        }
    }

    private async Task ActAsync(Run run, string name, HealTarget target, ActingHeal mine, string key, CancellationToken cancellationToken)
    {
        try
        {
            HealStatus final;
            try
            {
                final = await healer.HealAsync(target, status =>
                {
                    mine.Publish(status);
                    run.Update(name, status, null, time.GetUtcNow());
                }, cancellationToken);
            }
            catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                logger.LogError(error, "Healing {Name} failed on an unexpected error", name);
                final = new HealStatus(Phases.Failed,
                    $"The hook service could not finish this InferenceService ({Describe(error)}); check the hook service's logs and start a new run.");
                run.Update(name, final, null, time.GetUtcNow());
            }

            mine.Complete(final);
        }
        finally
        {
            mine.Abandon(); // no-op after Complete; releases joiners when cancelled
            acting.TryRemove(KeyValuePair.Create(key, mine));
        }
    }

    private static string Describe(Exception error) => error switch
    {
        HttpOperationException { Response: { } response } => $"the Kubernetes API answered {(int)response.StatusCode}",
        HttpRequestException => "the Kubernetes API could not be reached",
        _ => error.GetType().Name,
    };

    /// <summary>Forgets finished runs older than the retention, then the oldest finished ones beyond the bound.</summary>
    private void Prune()
    {
        var settings = options.CurrentValue;
        var horizon = time.GetUtcNow() - settings.RunRetention;
        foreach (var run in runs.Values.Where(run => run.FinishedAt is { } finished && finished < horizon))
        {
            Forget(run.Id);
        }

        var excess = runs.Count - settings.MaxRetainedRuns + 1;
        if (excess > 0)
        {
            foreach (var run in runs.Values.Where(run => run.IsFinished).OrderBy(run => run.FinishedAt).Take(excess))
            {
                Forget(run.Id);
            }
        }
    }

    private void Forget(string id)
    {
        runs.TryRemove(id, out _);
        executions.TryRemove(id, out _);
    }
}
