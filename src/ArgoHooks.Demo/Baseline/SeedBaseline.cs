using System.Globalization;
using k8s;
using k8s.Models;

namespace ArgoHooks.Demo.Baseline;

/// <summary>The seed's approach, as its Job scripts did it.</summary>
public sealed class SeedBaselineOptions
{
    /// <summary>`until [ -f /mnt/models/model.pkl ]; do sleep 10; done` — how often the file is looked for.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(10);

    public string ArtifactFileName { get; init; } = "model.pkl";

    /// <summary>`kubectl rollout status --timeout`.</summary>
    public TimeSpan RolloutTimeout { get; init; } = TimeSpan.FromMinutes(10);
}

/// <summary>What the baseline did for one model, relative to the caller's epoch.</summary>
public sealed record BaselineModelResult(string Name, TimeSpan FileSeenAt, TimeSpan RestartedAt, TimeSpan DoneAt, string? Error);

/// <summary>
/// The seed's post-sync script, faithfully, through KubernetesClient: for each model in turn, poll the mounted PVC
/// for <c>model.pkl</c>, then <c>kubectl rollout restart deployment/&lt;isvc&gt;-predictor</c> (GET, then a strategic
/// merge patch of the pod template annotation <c>kubectl.kubernetes.io/restartedAt</c>), then wait like
/// <c>kubectl rollout status</c> (list + watch of that Deployment, kubectl's completion rule). No model probe: a
/// finished rollout is reported as "done".
/// </summary>
public sealed class SeedBaseline(
    IKubernetes client, string @namespace, string claimFolder, SeedBaselineOptions options, TimeProvider time, long epoch)
{
    public const string RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt";

    /// <param name="onDone">Called the moment the baseline reports a model done (before it moves to the next one).</param>
    public async Task<IReadOnlyList<BaselineModelResult>> RunAsync(
        IReadOnlyList<string> names, Func<string, CancellationToken, Task>? onDone, CancellationToken cancellationToken)
    {
        var results = new List<BaselineModelResult>();
        foreach (var name in names)
        {
            var fileSeen = await WaitForFileAsync(Path.Combine(claimFolder, name, options.ArtifactFileName), cancellationToken);
            var deployment = name + "-predictor";
            var restarted = await RolloutRestartAsync(deployment, cancellationToken);
            var error = await RolloutStatusAsync(deployment, cancellationToken);
            var done = Now;
            if (onDone is not null)
            {
                await onDone(name, cancellationToken);
            }

            results.Add(new BaselineModelResult(name, fileSeen, restarted, done, error));
        }

        return results;
    }

    private TimeSpan Now => time.GetElapsedTime(epoch);

    private async Task<TimeSpan> WaitForFileAsync(string path, CancellationToken cancellationToken)
    {
        while (!File.Exists(path))
        {
            await Task.Delay(options.PollInterval, time, cancellationToken);
        }

        return Now;
    }

    /// <summary>kubectl rollout restart: read the Deployment, then patch its pod template with a new restartedAt.</summary>
    private async Task<TimeSpan> RolloutRestartAsync(string deployment, CancellationToken cancellationToken)
    {
        await client.AppsV1.ReadNamespacedDeploymentAsync(deployment, @namespace, cancellationToken: cancellationToken);
        var restartedAt = time.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture);
        var patch = new System.Text.Json.Nodes.JsonObject
        {
            ["spec"] = new System.Text.Json.Nodes.JsonObject
            {
                ["template"] = new System.Text.Json.Nodes.JsonObject
                {
                    ["metadata"] = new System.Text.Json.Nodes.JsonObject
                    {
                        ["annotations"] = new System.Text.Json.Nodes.JsonObject { [RestartedAtAnnotation] = restartedAt },
                    },
                },
            },
        }.ToJsonString();
        await client.AppsV1.PatchNamespacedDeploymentAsync(
            new V1Patch(patch, V1Patch.PatchType.StrategicMergePatch), deployment, @namespace, fieldManager: "kubectl-rollout", cancellationToken: cancellationToken);
        return Now;
    }

    /// <summary>kubectl rollout status: list + watch the Deployment until kubectl's rule says rolled out; null on success, else the error.</summary>
    private async Task<string?> RolloutStatusAsync(string deployment, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.RolloutTimeout);
        try
        {
            while (true)
            {
                var list = await client.AppsV1.ListNamespacedDeploymentAsync(
                    @namespace, fieldSelector: $"metadata.name={deployment}", cancellationToken: timeout.Token);
                if (list.Items.FirstOrDefault() is { } current && Evaluate(current) is { } listed)
                {
                    return listed.Length == 0 ? null : listed;
                }

                await foreach (var (type, item) in client.AppsV1.WatchListNamespacedDeploymentAsync(
                                   @namespace, fieldSelector: $"metadata.name={deployment}", resourceVersion: list.Metadata.ResourceVersion,
                                   cancellationToken: timeout.Token))
                {
                    if (type is WatchEventType.Added or WatchEventType.Modified && Evaluate(item) is { } verdict)
                    {
                        return verdict.Length == 0 ? null : verdict;
                    }
                }

                // The watch ended (timeout, cut, 410): kubectl's informer lists again.
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"timed out waiting for the rollout of {deployment}";
        }
    }

    /// <summary>kubectl's DeploymentStatusViewer: "" when rolled out, an error text when the deadline was exceeded, null while waiting.</summary>
    public static string? Evaluate(V1Deployment deployment)
    {
        var status = deployment.Status;
        if (status is null || deployment.Metadata.Generation > status.ObservedGeneration)
        {
            return null; // waiting for the deployment spec update to be observed
        }

        if (status.Conditions?.FirstOrDefault(condition => condition.Type == "Progressing") is { Reason: "ProgressDeadlineExceeded" })
        {
            return $"deployment \"{deployment.Metadata.Name}\" exceeded its progress deadline";
        }

        var updated = status.UpdatedReplicas ?? 0;
        if (deployment.Spec.Replicas is { } wanted && updated < wanted)
        {
            return null;
        }

        if ((status.Replicas ?? 0) > updated || (status.AvailableReplicas ?? 0) < updated)
        {
            return null; // old replicas pending termination, or new ones not available yet
        }

        return "";
    }
}
