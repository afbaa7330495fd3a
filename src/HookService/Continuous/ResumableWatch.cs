using System.Net;
using ArgoHooks.HookService.Kubernetes;
using k8s;
using Microsoft.Extensions.Logging;

namespace ArgoHooks.HookService.Continuous;

/// <summary>A list plus the resourceVersion to watch from.</summary>
public sealed record ListedItems<T>(IReadOnlyList<T> Items, string ResourceVersion);

/// <summary>
/// List, then watch from the list's resourceVersion; a stream that ends or is cut resumes from the last
/// resourceVersion seen (no re-list), and only 410 Gone (or an ERROR event) re-lists. No API polling.
/// </summary>
public sealed class ResumableWatch<T>(
    string resource,
    Func<CancellationToken, Task<ListedItems<T>>> list,
    Func<string, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType Type, T Object)>> watch,
    Func<T, string?> resourceVersionOf,
    TimeSpan reconnectDelay,
    TimeProvider time,
    ContinuousMetrics metrics,
    ILogger logger) where T : class
{
    /// <param name="onList">The complete current set (first list and every re-list).</param>
    /// <param name="onEvent">Each ADDED/MODIFIED/DELETED after it.</param>
    public async Task RunAsync(Action<IReadOnlyList<T>> onList, Action<WatchEventType, T> onEvent, CancellationToken cancellationToken)
    {
        string? resourceVersion = null;
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (resourceVersion is null)
                {
                    var listed = await list(cancellationToken);
                    onList(listed.Items);
                    resourceVersion = listed.ResourceVersion;
                    failures = 0;
                }

                var gone = false;
                await foreach (var (type, item) in watch(resourceVersion, error => gone |= KubernetesErrors.StatusOf(error) == HttpStatusCode.Gone, cancellationToken)
                    .WithCancellation(cancellationToken))
                {
                    if (type == WatchEventType.Error)
                    {
                        gone = true; // an ERROR event carries a Status (410 Expired): the version is no longer served
                        break;
                    }

                    failures = 0;
                    if (item is not null && resourceVersionOf(item) is { Length: > 0 } seen)
                    {
                        resourceVersion = seen;
                    }

                    if (type != WatchEventType.Bookmark && item is not null)
                    {
                        onEvent(type, item);
                    }
                }

                if (gone)
                {
                    logger.LogInformation("Watch of {Resource} from resourceVersion {ResourceVersion} is gone (410); re-listing.", resource, resourceVersion);
                    metrics.WatchRestarted(resource, "relist");
                    resourceVersion = null;
                }
                else
                {
                    metrics.WatchRestarted(resource, "resume");
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error) when (error.Is(HttpStatusCode.Gone))
            {
                logger.LogInformation("Watch of {Resource}: resourceVersion {ResourceVersion} is too old (410 Gone); re-listing.", resource, resourceVersion);
                metrics.WatchRestarted(resource, "relist");
                resourceVersion = null;
            }
            catch (Exception error)
            {
                // A cut stream, an unavailable API server or a failed list: resume from the last version seen.
                logger.LogInformation("Watch of {Resource} was interrupted ({Error}); resuming from resourceVersion {ResourceVersion}.",
                    resource, error.GetType().Name, resourceVersion ?? "(list again)");
                metrics.WatchRestarted(resource, "resume");
                failures++;
                // Back off while the API server stays unavailable: reconnectDelay doubling per failure, at most 30 s.
                var delay = TimeSpan.FromTicks(Math.Min(reconnectDelay.Ticks * (1L << Math.Min(failures - 1, 10)), TimeSpan.FromSeconds(30).Ticks));
                try
                {
                    await Task.Delay(delay, time, cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }
}
