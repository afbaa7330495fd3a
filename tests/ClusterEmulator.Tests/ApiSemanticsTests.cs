using System.Net;
using System.Text.Json;
using k8s;
using k8s.Models;
using static ClusterEmulator.Tests.TestSupport;

namespace ClusterEmulator.Tests;

public class ApiSemanticsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Create_get_list_delete_inference_service_through_the_custom_objects_api()
    {
        await using var cluster = await StartAsync(o => o.PredictorStartupDelay = TimeSpan.FromHours(1));
        using var client = Client(cluster);

        var created = AsJson(await client.CustomObjects.CreateNamespacedCustomObjectAsync(InferenceService("iris"), Group, V1beta1, "ml", Plural, cancellationToken: Ct));
        Assert.Equal("iris", created.Str("metadata", "name"));
        Assert.Equal("ml", created.Str("metadata", "namespace"));
        Assert.Equal("1", created.Str("metadata", "generation"));
        Assert.False(string.IsNullOrEmpty(created.Str("metadata", "uid")));
        Assert.False(string.IsNullOrEmpty(created.Str("metadata", "creationTimestamp")));

        var fetched = await GetIsvcAsync(client, "ml", "iris");
        Assert.Equal(created.Str("metadata", "uid"), fetched.Str("metadata", "uid"));

        var list = AsJson(await client.CustomObjects.ListNamespacedCustomObjectAsync(Group, V1beta1, "ml", Plural, cancellationToken: Ct));
        Assert.Equal("InferenceServiceList", list.Str("kind"));
        Assert.Single(list.GetProperty("items").EnumerateArray());

        var dup = await ExpectHttpErrorAsync(() => client.CustomObjects.CreateNamespacedCustomObjectAsync(InferenceService("iris"), Group, V1beta1, "ml", Plural, cancellationToken: Ct), HttpStatusCode.Conflict);
        Assert.Equal("AlreadyExists", StatusBody(dup).Str("reason"));

        await client.CustomObjects.DeleteNamespacedCustomObjectAsync(Group, V1beta1, "ml", Plural, "iris", cancellationToken: Ct);
        var missing = await ExpectHttpErrorAsync(() => client.CustomObjects.GetNamespacedCustomObjectAsync(Group, V1beta1, "ml", Plural, "iris", Ct), HttpStatusCode.NotFound);
        var status = StatusBody(missing);
        Assert.Equal("Status", status.Str("kind"));
        Assert.Equal("Failure", status.Str("status"));
        Assert.Equal("NotFound", status.Str("reason"));
        Assert.Equal("404", status.Str("code"));
        Assert.Equal("iris", status.Str("details", "name"));
        Assert.Equal("serving.kserve.io", status.Str("details", "group"));
        Assert.Equal("inferenceservices", status.Str("details", "kind"));
        // Garbage collection removed the predictor Deployment owned by the InferenceService.
        Assert.Null(cluster.Get("apps/v1", "Deployment", "ml", "iris-predictor"));
    }

    [Fact]
    public async Task Generation_moves_on_spec_changes_only_while_resource_version_moves_on_every_write()
    {
        await using var cluster = await StartAsync(o => o.PredictorStartupDelay = TimeSpan.FromHours(1));
        cluster.Controllers.Paused = true;
        using var client = Client(cluster);
        var created = AsJson(await client.CustomObjects.CreateNamespacedCustomObjectAsync(InferenceService("iris"), Group, V1beta1, "ml", Plural, cancellationToken: Ct));
        var rv0 = long.Parse(created.Str("metadata", "resourceVersion")!);

        var labelPatch = new V1Patch("{\"metadata\":{\"labels\":{\"team\":\"a\"}}}", V1Patch.PatchType.MergePatch);
        var afterLabel = AsJson(await client.CustomObjects.PatchNamespacedCustomObjectAsync(labelPatch, Group, V1beta1, "ml", Plural, "iris", cancellationToken: Ct));
        Assert.Equal("1", afterLabel.Str("metadata", "generation"));
        var rv1 = long.Parse(afterLabel.Str("metadata", "resourceVersion")!);
        Assert.True(rv1 > rv0);

        var statusPatch = new V1Patch("{\"status\":{\"url\":\"http://x\"}}", V1Patch.PatchType.MergePatch);
        var afterStatus = AsJson(await client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(statusPatch, Group, V1beta1, "ml", Plural, "iris", cancellationToken: Ct));
        Assert.Equal("1", afterStatus.Str("metadata", "generation"));
        Assert.Equal("http://x", afterStatus.Str("status", "url"));
        Assert.True(long.Parse(afterStatus.Str("metadata", "resourceVersion")!) > rv1);

        // status written through the main resource is ignored (status subresource semantics)
        var ignored = AsJson(await client.CustomObjects.PatchNamespacedCustomObjectAsync(new V1Patch("{\"status\":{\"url\":\"http://y\"}}", V1Patch.PatchType.MergePatch), Group, V1beta1, "ml", Plural, "iris", cancellationToken: Ct));
        Assert.Equal("http://x", ignored.Str("status", "url"));

        var specPatch = new V1Patch("{\"spec\":{\"predictor\":{\"annotations\":{\"argohooks.io/restarted-at\":\"2025-01-01T00:00:00Z\"}}}}", V1Patch.PatchType.MergePatch);
        var afterSpec = AsJson(await client.CustomObjects.PatchNamespacedCustomObjectAsync(specPatch, Group, V1beta1, "ml", Plural, "iris", fieldManager: "argohooks", cancellationToken: Ct));
        Assert.Equal("2", afterSpec.Str("metadata", "generation"));
        var managers = afterSpec.GetProperty("metadata").GetProperty("managedFields").EnumerateArray().Select(m => m.Str("manager")).ToList();
        Assert.Contains("argohooks", managers);

        // a patch that changes nothing is not a write
        var same = AsJson(await client.CustomObjects.PatchNamespacedCustomObjectAsync(specPatch, Group, V1beta1, "ml", Plural, "iris", fieldManager: "argohooks", cancellationToken: Ct));
        Assert.Equal(afterSpec.Str("metadata", "resourceVersion"), same.Str("metadata", "resourceVersion"));
    }

    [Fact]
    public async Task Stale_resource_version_in_update_or_patch_is_a_409_conflict()
    {
        await using var cluster = await StartAsync(o => o.PredictorStartupDelay = TimeSpan.FromHours(1));
        cluster.Controllers.Paused = true;
        using var client = Client(cluster);
        var created = AsJson(await client.CustomObjects.CreateNamespacedCustomObjectAsync(InferenceService("iris"), Group, V1beta1, "ml", Plural, cancellationToken: Ct));
        var staleRv = created.Str("metadata", "resourceVersion")!;
        await client.CustomObjects.PatchNamespacedCustomObjectAsync(new V1Patch("{\"metadata\":{\"labels\":{\"a\":\"b\"}}}", V1Patch.PatchType.MergePatch), Group, V1beta1, "ml", Plural, "iris", cancellationToken: Ct);

        var patch = new V1Patch($"{{\"metadata\":{{\"resourceVersion\":\"{staleRv}\",\"annotations\":{{\"x\":\"y\"}}}}}}", V1Patch.PatchType.MergePatch);
        var conflict = await ExpectHttpErrorAsync(() => client.CustomObjects.PatchNamespacedCustomObjectAsync(patch, Group, V1beta1, "ml", Plural, "iris", cancellationToken: Ct), HttpStatusCode.Conflict);
        Assert.Equal("Conflict", StatusBody(conflict).Str("reason"));

        var body = JsonSerializer.Deserialize<Dictionary<string, object>>(created.GetRawText())!;
        var update = await ExpectHttpErrorAsync(() => client.CustomObjects.ReplaceNamespacedCustomObjectAsync(body, Group, V1beta1, "ml", Plural, "iris", cancellationToken: Ct), HttpStatusCode.Conflict);
        Assert.Equal("Conflict", StatusBody(update).Str("reason"));
        Assert.Null(cluster.Get("serving.kserve.io/v1beta1", "InferenceService", "ml", "iris")!["metadata"]!["annotations"]);
    }

    [Fact]
    public async Task Invalid_objects_get_422_with_causes_and_change_nothing()
    {
        await using var cluster = await StartAsync();
        using var client = Client(cluster);
        var noPredictor = new Dictionary<string, object>
        {
            ["apiVersion"] = "serving.kserve.io/v1beta1",
            ["kind"] = "InferenceService",
            ["metadata"] = new Dictionary<string, object> { ["name"] = "broken" },
            ["spec"] = new Dictionary<string, object>(),
        };
        var e = await ExpectHttpErrorAsync(() => client.CustomObjects.CreateNamespacedCustomObjectAsync(noPredictor, Group, V1beta1, "ml", Plural, cancellationToken: Ct), (HttpStatusCode)422);
        var status = StatusBody(e);
        Assert.Equal("Invalid", status.Str("reason"));
        Assert.Equal("InferenceService", status.Str("details", "kind"));
        Assert.Equal("spec.predictor", status.GetProperty("details").GetProperty("causes")[0].Str("field"));
        Assert.Null(cluster.Get("serving.kserve.io/v1beta1", "InferenceService", "ml", "broken"));

        var missingNs = await ExpectHttpErrorAsync(() => client.CustomObjects.CreateNamespacedCustomObjectAsync(InferenceService("x"), Group, V1beta1, "nowhere", Plural, cancellationToken: Ct), HttpStatusCode.NotFound);
        Assert.Equal("namespaces", StatusBody(missingNs).Str("details", "kind"));
    }

    [Fact]
    public async Task Deleting_a_namespace_deletes_what_it_contains_and_model_servers_stop()
    {
        await using var cluster = await StartAsync();
        using var client = Client(cluster);
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "team-x" } }, cancellationToken: Ct);
        await client.CustomObjects.CreateNamespacedCustomObjectAsync(InferenceService("iris"), Group, V1beta1, "team-x", Plural, cancellationToken: Ct);
        await EventuallyAsync(() => Task.FromResult(cluster.ModelServers.Count), n => n == 1, "a model server");
        await client.CoreV1.DeleteNamespaceAsync("team-x", cancellationToken: Ct);
        Assert.Empty(cluster.List("serving.kserve.io/v1beta1", "InferenceService", "team-x"));
        Assert.Empty(cluster.List("apps/v1", "Deployment", "team-x"));
        await EventuallyAsync(() => Task.FromResult(cluster.ModelServers.Count), n => n == 0, "servers stopped");
        await ExpectHttpErrorAsync(() => client.CoreV1.ReadNamespaceAsync("team-x", cancellationToken: Ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Of_concurrent_patches_carrying_the_same_resource_version_exactly_one_wins()
    {
        await using var cluster = await StartAsync(o => o.PredictorStartupDelay = TimeSpan.FromHours(1));
        cluster.Controllers.Paused = true;
        using var client = Client(cluster);
        var created = AsJson(await client.CustomObjects.CreateNamespacedCustomObjectAsync(InferenceService("iris"), Group, V1beta1, "ml", Plural, cancellationToken: Ct));
        var rv = created.Str("metadata", "resourceVersion");
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 10).Select(async i =>
        {
            var patch = new V1Patch($"{{\"metadata\":{{\"resourceVersion\":\"{rv}\"}},\"spec\":{{\"predictor\":{{\"annotations\":{{\"argohooks.io/restarted-at\":\"{i}\"}}}}}}}}", V1Patch.PatchType.MergePatch);
            try
            {
                await client.CustomObjects.PatchNamespacedCustomObjectAsync(patch, Group, V1beta1, "ml", Plural, "iris", cancellationToken: Ct);
                return HttpStatusCode.OK;
            }
            catch (k8s.Autorest.HttpOperationException e)
            {
                return e.Response.StatusCode;
            }
        }));
        Assert.Single(outcomes, o => o == HttpStatusCode.OK);
        Assert.Equal(9, outcomes.Count(o => o == HttpStatusCode.Conflict));
        Assert.Equal(2, cluster.Get("serving.kserve.io/v1beta1", "InferenceService", "ml", "iris")!["metadata"]!["generation"]!.GetValue<long>());
    }

    [Fact]
    public async Task ApplyAsync_creates_then_replaces_from_yaml_and_creates_the_namespace()
    {
        await using var cluster = await StartAsync(o => o.PredictorStartupDelay = TimeSpan.FromHours(1));
        cluster.Controllers.Paused = true;
        const string manifest = """
            apiVersion: serving.kserve.io/v1beta1
            kind: InferenceService
            metadata:
              name: iris
              namespace: fresh
              annotations: {argohooks.io/gate: deferred}
            spec:
              predictor:
                minReplicas: 2
                model:
                  modelFormat: {name: sklearn}
                  storageUri: "pvc://models/iris"
            ---
            apiVersion: v1
            kind: Namespace
            metadata:
              name: other
            """;
        var last = await cluster.ApplyAsync(manifest, Ct);
        Assert.Equal("Namespace", last["kind"]!.GetValue<string>());
        var isvc = cluster.Get("serving.kserve.io/v1beta1", "InferenceService", "fresh", "iris")!;
        Assert.Equal(2, isvc["spec"]!["predictor"]!["minReplicas"]!.GetValue<long>());
        Assert.Equal("pvc://models/iris", isvc["spec"]!["predictor"]!["model"]!["storageUri"]!.GetValue<string>());
        Assert.NotNull(cluster.Get("v1", "Namespace", "", "fresh"));

        var replaced = await cluster.ApplyAsync(manifest.Replace("minReplicas: 2", "minReplicas: 3").Replace("deferred", "strict"), Ct);
        Assert.Equal("Namespace", replaced["kind"]!.GetValue<string>());
        isvc = cluster.Get("serving.kserve.io/v1beta1", "InferenceService", "fresh", "iris")!;
        Assert.Equal(3, isvc["spec"]!["predictor"]!["minReplicas"]!.GetValue<long>());
        Assert.Equal("strict", isvc["metadata"]!["annotations"]!["argohooks.io/gate"]!.GetValue<string>());
        Assert.Equal(2, isvc["metadata"]!["generation"]!.GetValue<long>());
        await Assert.ThrowsAsync<ArgumentException>(() => cluster.ApplyAsync("apiVersion: v1\nkind: Secret\nmetadata: {name: x}\n", Ct));
    }

    [Fact]
    public async Task Leases_support_the_leader_election_compare_and_swap()
    {
        await using var cluster = await StartAsync();
        cluster.Controllers.Paused = true;
        using var client = Client(cluster);
        var lease = await client.CoordinationV1.CreateNamespacedLeaseAsync(new V1Lease
        {
            Metadata = new V1ObjectMeta { Name = "argohooks-leader" },
            Spec = new V1LeaseSpec { HolderIdentity = "a", LeaseDurationSeconds = 15 },
        }, "ml", cancellationToken: Ct);
        var stale = await client.CoordinationV1.ReadNamespacedLeaseAsync("argohooks-leader", "ml", cancellationToken: Ct);

        lease.Spec.HolderIdentity = "b";
        var taken = await client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, "argohooks-leader", "ml", cancellationToken: Ct);
        Assert.Equal("b", taken.Spec.HolderIdentity);

        stale.Spec.HolderIdentity = "c";
        var lost = await ExpectHttpErrorAsync(() => client.CoordinationV1.ReplaceNamespacedLeaseAsync(stale, "argohooks-leader", "ml", cancellationToken: Ct), HttpStatusCode.Conflict);
        Assert.Equal("Conflict", StatusBody(lost).Str("reason"));
        Assert.Equal("b", (await client.CoordinationV1.ReadNamespacedLeaseAsync("argohooks-leader", "ml", cancellationToken: Ct)).Spec.HolderIdentity);
    }
}
