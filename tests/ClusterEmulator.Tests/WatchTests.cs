using System.Net;
using System.Text.Json;
using k8s;
using k8s.Models;
using static ClusterEmulator.Tests.TestSupport;

namespace ClusterEmulator.Tests;

public class WatchTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task CreateAsync(Kubernetes client, string name) =>
        await client.CustomObjects.CreateNamespacedCustomObjectAsync(InferenceService(name), Group, V1beta1, "ml", Plural, cancellationToken: Ct);

    private static V1Patch Label(string value) => new($"{{\"metadata\":{{\"labels\":{{\"step\":\"{value}\"}}}}}}", V1Patch.PatchType.MergePatch);

    [Fact]
    public async Task Client_watch_streams_added_modified_deleted_and_resumes_from_a_resource_version()
    {
        await using var cluster = await StartAsync();
        cluster.Controllers.Paused = true;
        using var client = Client(cluster);
        await CreateAsync(client, "a");

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(20));
        var seen = new List<(WatchEventType Type, string Name, string? Step, string Rv)>();
        var response = client.CustomObjects.ListNamespacedCustomObjectWithHttpMessagesAsync(Group, V1beta1, "ml", Plural, watch: true, cancellationToken: cts.Token);
        var writer = Task.Run(async () =>
        {
            await Task.Delay(200, Ct);
            await client.CustomObjects.PatchNamespacedCustomObjectAsync(Label("1"), Group, V1beta1, "ml", Plural, "a", cancellationToken: Ct);
            await client.CustomObjects.DeleteNamespacedCustomObjectAsync(Group, V1beta1, "ml", Plural, "a", cancellationToken: Ct);
        }, Ct);
#pragma warning disable CS0618 // the list-with-watch pattern other code uses: it must keep working
        await foreach (var (type, item) in response.WatchAsync<JsonElement, object>(cancellationToken: cts.Token))
#pragma warning restore CS0618
        {
            seen.Add((type, item.Str("metadata", "name")!, item.Str("metadata", "labels", "step"), item.Str("metadata", "resourceVersion")!));
            if (type == WatchEventType.Deleted) break;
        }
        await writer;
        Assert.Equal([WatchEventType.Added, WatchEventType.Modified, WatchEventType.Deleted], seen.Select(s => s.Type));
        Assert.Equal("1", seen[1].Step);

        // Resume from the ADDED event's version: the later changes are replayed from history.
        var resumed = new List<WatchEventType>();
        await foreach (var (type, _) in client.CustomObjects.WatchListNamespacedCustomObjectAsync(Group, V1beta1, "ml", Plural,
                           resourceVersion: seen[0].Rv, timeoutSeconds: 1, cancellationToken: cts.Token))
            resumed.Add(type);
        Assert.Equal([WatchEventType.Modified, WatchEventType.Deleted], resumed);
    }

    [Fact]
    public async Task Resuming_from_a_compacted_version_gets_an_error_event_with_410_expired()
    {
        await using var cluster = await StartAsync(o => o.WatchHistoryLimit = 3);
        cluster.Controllers.Paused = true;
        using var client = Client(cluster);
        await CreateAsync(client, "a");
        var rv = TestSupport.AsJson(await client.CustomObjects.GetNamespacedCustomObjectAsync(Group, V1beta1, "ml", Plural, "a", Ct)).Str("metadata", "resourceVersion")!;
        for (var i = 0; i < 5; i++) await client.CustomObjects.PatchNamespacedCustomObjectAsync(Label(i.ToString()), Group, V1beta1, "ml", Plural, "a", cancellationToken: Ct);

        using var http = new HttpClient { BaseAddress = cluster.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new("Bearer", cluster.AdminToken);
        var text = await http.GetStringAsync($"apis/serving.kserve.io/v1beta1/namespaces/ml/inferenceservices?watch=true&resourceVersion={rv}", Ct);
        var line = JsonDocument.Parse(text.Trim()).RootElement;
        Assert.Equal("ERROR", line.Str("type"));
        Assert.Equal("410", line.Str("object", "code"));
        Assert.Equal("Expired", line.Str("object", "reason"));

        Exception? error = null;
        var events = new List<WatchEventType>();
        await foreach (var (type, _) in client.CustomObjects.WatchListNamespacedCustomObjectAsync(Group, V1beta1, "ml", Plural, resourceVersion: rv,
                           onError: e => error = e, cancellationToken: Ct))
            events.Add(type);
        // The client turns the ERROR event's Status into a KubernetesException passed to onError.
        Assert.Empty(events);
        var expired = Assert.IsType<KubernetesException>(error);
        Assert.Equal(410, expired.Status.Code);
        Assert.Equal("Expired", expired.Status.Reason);

        // A list from a compacted version is fine.
        var list = await client.CustomObjects.ListNamespacedCustomObjectAsync(Group, V1beta1, "ml", Plural, resourceVersion: rv, cancellationToken: Ct);
        Assert.Single(TestSupport.AsJson(list).GetProperty("items").EnumerateArray());

        // Compaction on demand: even a recent version expires.
        var current = TestSupport.AsJson(list).Str("metadata", "resourceVersion")!;
        await client.CustomObjects.PatchNamespacedCustomObjectAsync(Label("x"), Group, V1beta1, "ml", Plural, "a", cancellationToken: Ct);
        cluster.Faults.CompactHistory();
        var afterCompaction = await http.GetStringAsync($"apis/serving.kserve.io/v1beta1/namespaces/ml/inferenceservices?watch=1&resourceVersion={current}", Ct);
        Assert.Equal("410", JsonDocument.Parse(afterCompaction.Trim()).RootElement.Str("object", "code"));
    }

    [Fact]
    public async Task Watch_filters_by_label_and_field_selector_and_sends_bookmarks()
    {
        await using var cluster = await StartAsync(o => o.WatchBookmarkInterval = TimeSpan.FromMilliseconds(100));
        cluster.Controllers.Paused = true;
        using var client = Client(cluster);
        await CreateAsync(client, "a");
        await CreateAsync(client, "b");
        using var http = new HttpClient { BaseAddress = cluster.BaseAddress };
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(20));
        using var stream = await http.GetStreamAsync("apis/serving.kserve.io/v1beta1/namespaces/ml/inferenceservices?watch=true&fieldSelector=metadata.name%3Db&labelSelector=step%3D1&allowWatchBookmarks=true", cts.Token);
        using var reader = new StreamReader(stream);
        await client.CustomObjects.PatchNamespacedCustomObjectAsync(Label("1"), Group, V1beta1, "ml", Plural, "a", cancellationToken: Ct);
        await client.CustomObjects.PatchNamespacedCustomObjectAsync(Label("1"), Group, V1beta1, "ml", Plural, "b", cancellationToken: Ct);
        await client.CustomObjects.PatchNamespacedCustomObjectAsync(Label("2"), Group, V1beta1, "ml", Plural, "b", cancellationToken: Ct);
        var lines = new List<JsonElement>();
        while (lines.Count(l => l.Str("type") != "BOOKMARK") < 2 || !lines.Any(l => l.Str("type") == "BOOKMARK"))
        {
            var line = await reader.ReadLineAsync(cts.Token) ?? throw new InvalidOperationException("watch ended early");
            lines.Add(JsonDocument.Parse(line).RootElement);
        }
        var changes = lines.Where(l => l.Str("type") != "BOOKMARK").ToList();
        // b entering the label selector is ADDED, leaving it is DELETED; a never matches the field selector.
        Assert.Equal(["ADDED", "DELETED"], changes.Select(l => l.Str("type")));
        Assert.All(changes, l => Assert.Equal("b", l.Str("object", "metadata", "name")));
        var bookmark = lines.First(l => l.Str("type") == "BOOKMARK");
        Assert.False(string.IsNullOrEmpty(bookmark.Str("object", "metadata", "resourceVersion")));
    }

    [Fact]
    public async Task Cutting_watches_ends_open_streams_abruptly()
    {
        await using var cluster = await StartAsync();
        cluster.Controllers.Paused = true;
        using var http = new HttpClient { BaseAddress = cluster.BaseAddress };
        using var stream = await http.GetStreamAsync("api/v1/namespaces/ml/pods?watch=true", Ct);
        await TestSupport.EventuallyAsync(() => Task.FromResult(cluster.Faults.CutWatches()), n => n >= 1, "the watch to be registered");
        var buffer = new byte[1024];
        await Assert.ThrowsAnyAsync<IOException>(async () =>
        {
            while (await stream.ReadAsync(buffer, Ct) > 0) { }
        });
    }

    [Fact]
    public async Task Pods_list_with_every_label_selector_operator()
    {
        await using var cluster = await StartAsync(o => o.PredictorStartupDelay = TimeSpan.FromHours(1));
        using var client = Client(cluster);
        foreach (var (name, env) in new[] { ("p1", "prod"), ("p2", "dev"), ("p3", (string?)null) })
        {
            var labels = new Dictionary<string, string> { ["app"] = "x" };
            if (env is not null) labels["env"] = env;
            await client.CoreV1.CreateNamespacedPodAsync(new V1Pod
            {
                Metadata = new V1ObjectMeta { Name = name, Labels = labels },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "busybox" }] },
            }, "default", cancellationToken: Ct);
        }
        async Task<string> Names(string selector) => string.Join(",",
            (await client.CoreV1.ListNamespacedPodAsync("default", labelSelector: selector, cancellationToken: Ct)).Items.Select(p => p.Metadata.Name));
        Assert.Equal("p1", await Names("env=prod"));
        Assert.Equal("p1", await Names("env==prod"));
        Assert.Equal("p2,p3", await Names("env!=prod"));
        Assert.Equal("p1,p2", await Names("env in (prod, dev)"));
        Assert.Equal("p3", await Names("env notin (prod,dev)"));
        Assert.Equal("p1,p2", await Names("env"));
        Assert.Equal("p3", await Names("!env"));
        Assert.Equal("p2", await Names("app=x,env=dev"));
        var all = await client.CoreV1.ListPodForAllNamespacesAsync(labelSelector: "app=x", cancellationToken: Ct);
        Assert.Equal(3, all.Items.Count);
        var firstPage = await client.CoreV1.ListNamespacedPodAsync("default", limit: 2, cancellationToken: Ct);
        Assert.Equal(["p1", "p2"], firstPage.Items.Select(p => p.Metadata.Name));
        Assert.Equal(1, firstPage.Metadata.RemainingItemCount);
        var secondPage = await client.CoreV1.ListNamespacedPodAsync("default", limit: 2, continueParameter: firstPage.Metadata.ContinueProperty, cancellationToken: Ct);
        Assert.Equal(["p3"], secondPage.Items.Select(p => p.Metadata.Name));
        Assert.Null(secondPage.Metadata.ContinueProperty);
        var bad = await ExpectHttpErrorAsync(() => client.CoreV1.ListNamespacedPodAsync("default", labelSelector: "env in prod", cancellationToken: Ct), HttpStatusCode.BadRequest);
        Assert.Equal("BadRequest", StatusBody(bad).Str("reason"));
    }
}
