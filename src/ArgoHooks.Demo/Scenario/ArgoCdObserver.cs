using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using ArgoHooks.ClusterEmulator;
using ArgoHooks.Health;

namespace ArgoHooks.Demo.Scenario;

/// <summary>
/// Watches InferenceServices the way a person watching Argo CD and curl would: evaluates the real health.lua on
/// each object as stored, and asks every running predictor the model server's own probe. Prints every change.
/// </summary>
public sealed class ArgoCdObserver : IAsyncDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    private readonly EmulatedCluster cluster;
    private readonly string @namespace;
    private readonly IReadOnlyList<string> names;
    private readonly Timeline timeline;
    private readonly TimeProvider time;
    private readonly LuaHealthEvaluator evaluator;
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly ConcurrentDictionary<string, HealthStatus> health = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> probes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> podsSeen = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;

    public ArgoCdObserver(EmulatedCluster cluster, string @namespace, IReadOnlyList<string> names, Timeline timeline, TimeProvider time)
    {
        this.cluster = cluster;
        this.@namespace = @namespace;
        this.names = names;
        this.timeline = timeline;
        this.time = time;
        evaluator = new LuaHealthEvaluator(time);
        loop = ObserveAsync(stop.Token);
    }

    public HealthStatus? HealthOf(string name) => health.TryGetValue(name, out var status) ? status : null;

    /// <summary>The latest probe summary, e.g. "200 200" or "404"; empty when no predictor runs.</summary>
    public string ProbesOf(string name) => probes.TryGetValue(name, out var summary) ? summary : "";

    /// <summary>Predictor pods ever seen for the InferenceService, counted from the cluster (not from anyone's report).</summary>
    public int PodsSeen(string name) => podsSeen.TryGetValue(name, out var pods) ? pods.Count : 0;

    public JsonObject? InferenceService(string name) => cluster.Get("serving.kserve.io/v1beta1", "InferenceService", @namespace, name);

    /// <summary>Waits until every named resource is Healthy, as Argo CD waits before the next sync wave.</summary>
    public async Task<bool> WaitAllHealthyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = time.GetTimestamp() + (long)(timeout.TotalSeconds * time.TimestampFrequency);
        while (time.GetTimestamp() < deadline)
        {
            if (names.All(name => HealthOf(name)?.Status == "Healthy"))
            {
                return true;
            }

            await Task.Delay(Interval, time, cancellationToken);
        }

        return false;
    }

    /// <summary>Observes once more, now, so a caller's final verdict sees the latest state.</summary>
    public Task RefreshAsync(CancellationToken cancellationToken) => ObserveOnceAsync(cancellationToken);

    private async Task ObserveAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await ObserveOnceAsync(cancellationToken);
                await Task.Delay(Interval, time, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task ObserveOnceAsync(CancellationToken cancellationToken)
    {
        foreach (var name in names)
        {
            var isvc = InferenceService(name);
            if (isvc is not null)
            {
                var status = evaluator.Evaluate(HealthScript.InferenceService, isvc);
                if (!health.TryGetValue(name, out var previous) || previous != status)
                {
                    health[name] = status;
                    timeline.Write("argocd", name, $"{status.Status}: {status.Message}");
                }
            }

            var summary = await ProbeAsync(name, cancellationToken);
            if (!probes.TryGetValue(name, out var before) || before != summary)
            {
                probes[name] = summary;
                timeline.Write("probe", name, summary.Length == 0 ? "no predictor is serving" : $"GET /v1/models/{name} -> {summary}");
            }
        }
    }

    private async Task<string> ProbeAsync(string name, CancellationToken cancellationToken)
    {
        var seen = podsSeen.GetOrAdd(name, _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal));
        foreach (var server in cluster.ModelServers.Where(server => server.Namespace == @namespace && server.ModelName == name))
        {
            seen.TryAdd(server.PodName, 0);
        }

        var answers = new List<string>();
        var servers = cluster.ModelServers
            .Where(server => server.Namespace == @namespace && server.ModelName == name && server.State == ModelServerState.Running)
            .OrderBy(server => server.PodName, StringComparer.Ordinal);
        foreach (var server in servers)
        {
            answers.Add(await ProbeOneAsync(server.Port, name, cancellationToken));
        }

        return string.Join(", ", answers);
    }

    private async Task<string> ProbeOneAsync(int port, string name, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync(
                string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/v1/models/{name}"), cancellationToken);
            var code = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return TryParse(body)?["error"]?.GetValue<string>() is { } error ? $"{code} {error}" : code;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return "no answer within 2 s";
        }
        catch (HttpRequestException exception)
        {
            // A pod that is shutting down refuses connections: that is an answer too, not an observer failure.
            return $"unreachable ({exception.HttpRequestError})";
        }
    }

    private static JsonObject? TryParse(string body)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null; // not every answer is JSON (e.g. a plain-text error page): the status code still counts
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await loop;
        http.Dispose();
        stop.Dispose();
    }
}
