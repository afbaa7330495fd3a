using System.Net;
using System.Text.Json;
using ArgoHooks.ClusterEmulator;
using k8s;
using k8s.Models;
using static ClusterEmulator.Tests.TestSupport;

namespace ClusterEmulator.Tests;

public class PatchAndFaultTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Json_patch_strategic_merge_patch_apply_patch_and_unsupported_types()
    {
        await using var cluster = await StartAsync();
        using var client = Client(cluster);
        await client.CustomObjects.CreateNamespacedCustomObjectAsync(InferenceService("iris"), Group, V1beta1, "ml", Plural, cancellationToken: Ct);
        var deployment = await EventuallyAsync(() => client.AppsV1.ListNamespacedDeploymentAsync("ml", cancellationToken: Ct), l => l.Items.Count == 1, "predictor deployment");
        var name = deployment.Items[0].Metadata.Name;

        // JSON patch with a passing and a failing test op.
        var jsonPatch = new V1Patch("[{\"op\":\"test\",\"path\":\"/metadata/name\",\"value\":\"iris\"},{\"op\":\"add\",\"path\":\"/metadata/labels\",\"value\":{\"team\":\"ml\"}}]", V1Patch.PatchType.JsonPatch);
        // Like the real server, adding under a missing parent fails.
        var missingParent = new V1Patch("[{\"op\":\"add\",\"path\":\"/metadata/annotations/x\",\"value\":\"y\"}]", V1Patch.PatchType.JsonPatch);
        await ExpectHttpErrorAsync(() => client.CustomObjects.PatchNamespacedCustomObjectAsync(missingParent, Group, V1beta1, "ml", Plural, "iris", cancellationToken: Ct), (HttpStatusCode)422);
        var patched = AsJson(await client.CustomObjects.PatchNamespacedCustomObjectAsync(jsonPatch, Group, V1beta1, "ml", Plural, "iris", cancellationToken: Ct));
        Assert.Equal("ml", patched.Str("metadata", "labels", "team"));
        var failing = new V1Patch("[{\"op\":\"test\",\"path\":\"/metadata/name\",\"value\":\"other\"},{\"op\":\"replace\",\"path\":\"/metadata/labels/team\",\"value\":\"x\"}]", V1Patch.PatchType.JsonPatch);
        var invalid = await ExpectHttpErrorAsync(() => client.CustomObjects.PatchNamespacedCustomObjectAsync(failing, Group, V1beta1, "ml", Plural, "iris", cancellationToken: Ct), (HttpStatusCode)422);
        Assert.Equal("Invalid", StatusBody(invalid).Str("reason"));
        Assert.Equal("ml", cluster.Get("serving.kserve.io/v1beta1", "InferenceService", "ml", "iris")!["metadata"]!["labels"]!["team"]!.GetValue<string>());

        // Strategic merge on a Deployment merges containers by name (kubectl rollout restart's patch shape).
        cluster.Controllers.Paused = true;
        var generationBefore = (await client.AppsV1.ReadNamespacedDeploymentAsync(name, "ml", cancellationToken: Ct)).Metadata.Generation;
        var smp = new V1Patch("{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\"2025-01-01T00:00:00Z\"}},\"spec\":{\"containers\":[{\"name\":\"kserve-container\",\"env\":[{\"name\":\"A\",\"value\":\"1\"}]}]}}}}", V1Patch.PatchType.StrategicMergePatch);
        var dep = await client.AppsV1.PatchNamespacedDeploymentAsync(smp, name, "ml", cancellationToken: Ct);
        var container = Assert.Single(dep.Spec.Template.Spec.Containers);
        Assert.Equal("kserve-container", container.Name);
        Assert.Equal("A", Assert.Single(container.Env).Name);
        Assert.False(string.IsNullOrEmpty(container.Image));
        Assert.Equal(generationBefore + 1, dep.Metadata.Generation);

        // Custom resources do not support strategic merge patch (415), as on a real server.
        var unsupported = await ExpectHttpErrorAsync(() => client.CustomObjects.PatchNamespacedCustomObjectAsync(new V1Patch("{}", V1Patch.PatchType.StrategicMergePatch), Group, V1beta1, "ml", Plural, "iris", cancellationToken: Ct), HttpStatusCode.UnsupportedMediaType);
        Assert.Equal("UnsupportedMediaType", StatusBody(unsupported).Str("reason"));

        // Server-side apply needs a field manager and records an Apply entry.
        var apply = new V1Patch("{\"apiVersion\":\"serving.kserve.io/v1beta1\",\"kind\":\"InferenceService\",\"metadata\":{\"name\":\"iris\",\"annotations\":{\"argohooks.io/gate\":\"strict\"}}}", V1Patch.PatchType.ApplyPatch);
        await ExpectHttpErrorAsync(() => client.CustomObjects.PatchNamespacedCustomObjectAsync(apply, Group, V1beta1, "ml", Plural, "iris", cancellationToken: Ct), HttpStatusCode.BadRequest);
        var applied = AsJson(await client.CustomObjects.PatchNamespacedCustomObjectAsync(apply, Group, V1beta1, "ml", Plural, "iris", fieldManager: "argocd-controller", force: true, cancellationToken: Ct));
        Assert.Equal("strict", applied.Str("metadata", "annotations", "argohooks.io/gate"));
        Assert.Contains(applied.GetProperty("metadata").GetProperty("managedFields").EnumerateArray(), m => m.Str("manager") == "argocd-controller" && m.Str("operation") == "Apply");

        // dryRun=All validates and answers without storing.
        var dry = new V1Patch("{\"metadata\":{\"labels\":{\"dry\":\"run\"}}}", V1Patch.PatchType.MergePatch);
        var dryResult = AsJson(await client.CustomObjects.PatchNamespacedCustomObjectAsync(dry, Group, V1beta1, "ml", Plural, "iris", dryRun: "All", cancellationToken: Ct));
        Assert.Equal("run", dryResult.Str("metadata", "labels", "dry"));
        Assert.Null(cluster.Get("serving.kserve.io/v1beta1", "InferenceService", "ml", "iris")!["metadata"]!["labels"]!["dry"]);
    }

    [Fact]
    public async Task Injected_faults_carry_status_bodies_retry_after_and_are_counted()
    {
        await using var cluster = await StartAsync(o => o.PredictorStartupDelay = TimeSpan.FromHours(1));
        cluster.Controllers.Paused = true;
        using var client = Client(cluster);
        await client.CustomObjects.CreateNamespacedCustomObjectAsync(InferenceService("iris"), Group, V1beta1, "ml", Plural, cancellationToken: Ct);
        var patch = new V1Patch("{\"metadata\":{\"labels\":{\"a\":\"b\"}}}", V1Patch.PatchType.MergePatch);

        var rule = cluster.Faults.Add(new FaultRule { Verb = "patch", Resource = "inferenceservices", StatusCodes = [429], RetryAfterSeconds = 3, Count = 1 });
        var throttled = await ExpectHttpErrorAsync(() => client.CustomObjects.PatchNamespacedCustomObjectAsync(patch, Group, V1beta1, "ml", Plural, "iris", cancellationToken: Ct), (HttpStatusCode)429);
        Assert.Equal("3", throttled.Response.Headers["Retry-After"].Single());
        Assert.Equal("TooManyRequests", StatusBody(throttled).Str("reason"));
        Assert.Equal(1, cluster.Faults.InjectedBy(rule));
        // Count = 1: the next patch goes through, and nothing was changed by the rejected one.
        Assert.Null(cluster.Get("serving.kserve.io/v1beta1", "InferenceService", "ml", "iris")!["metadata"]!["labels"]);
        await client.CustomObjects.PatchNamespacedCustomObjectAsync(patch, Group, V1beta1, "ml", Plural, "iris", cancellationToken: Ct);

        // 409 is reserved to racing writes: on a read it becomes 500.
        cluster.Faults.Add(new FaultRule { Verb = "get", Resource = "inferenceservices", StatusCodes = [409], Count = 1 });
        await ExpectHttpErrorAsync(() => client.CustomObjects.GetNamespacedCustomObjectAsync(Group, V1beta1, "ml", Plural, "iris", Ct), HttpStatusCode.InternalServerError);
        cluster.Faults.Add(new FaultRule { Verb = "patch", Resource = "inferenceservices", StatusCodes = [409], Count = 1 });
        var conflict = await ExpectHttpErrorAsync(() => client.CustomObjects.PatchNamespacedCustomObjectAsync(patch, Group, V1beta1, "ml", Plural, "iris", cancellationToken: Ct), HttpStatusCode.Conflict);
        Assert.Equal("Conflict", StatusBody(conflict).Str("reason"));

        cluster.Faults.Add(new FaultRule { Verb = "get", Resource = "inferenceservices", StatusCodes = [503], Count = 1 });
        var unavailable = await ExpectHttpErrorAsync(() => client.CustomObjects.GetNamespacedCustomObjectAsync(Group, V1beta1, "ml", Plural, "iris", Ct), HttpStatusCode.ServiceUnavailable);
        Assert.True(unavailable.Response.Headers.ContainsKey("Retry-After"));

        cluster.Faults.Add(new FaultRule { Verb = "list", Resource = "pods", ResetConnection = true, Count = 1 });
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.CoreV1.ListNamespacedPodAsync("ml", cancellationToken: Ct));
        await client.CoreV1.ListNamespacedPodAsync("ml", cancellationToken: Ct);

        Assert.Equal(3, cluster.Requests.Count("patch", "inferenceservices", "ml"));
        Assert.Equal(2, cluster.Requests.Count("get", "inferenceservices", "ml"));
        Assert.Equal(2, cluster.Requests.Count("list", "pods"));
        Assert.Equal(1, cluster.Requests.Count("create", "inferenceservices"));
        Assert.Equal(5, cluster.Requests.FaultCount());
        Assert.Equal(5, cluster.Faults.InjectedCount);
        cluster.Requests.Reset();
        Assert.Equal(0, cluster.Requests.Total);
    }

    [Fact]
    public async Task Fault_rates_are_deterministic_for_a_seed()
    {
        async Task<string> RunAsync()
        {
            await using var cluster = await StartAsync(o => o.FaultSeed = 7);
            cluster.Controllers.Paused = true;
            using var client = Client(cluster);
            cluster.Faults.Add(new FaultRule { Verb = "list", Resource = "pods", Rate = 0.5, StatusCodes = [500, 503] });
            var outcome = new List<string>();
            for (var i = 0; i < 20; i++)
            {
                try
                {
                    await client.CoreV1.ListNamespacedPodAsync("ml", cancellationToken: Ct);
                    outcome.Add("ok");
                }
                catch (k8s.Autorest.HttpOperationException e)
                {
                    outcome.Add(((int)e.Response.StatusCode).ToString());
                }
            }
            return string.Join(",", outcome);
        }
        var first = await RunAsync();
        Assert.Equal(first, await RunAsync());
        Assert.Contains("ok", first);
        Assert.Contains("50", first);
    }

    [Fact]
    public async Task Token_review_and_subject_access_review_follow_the_access_table()
    {
        await using var cluster = await StartAsync(o => o.RequireAuthentication = true);
        cluster.Controllers.Paused = true;
        cluster.Access.AddServiceAccountToken("job-token", "ml", "model-writer", audiences: ["argohooks"]);
        cluster.Access.Allow("system:serviceaccount:ml:model-writer", "patch", "serving.kserve.io", "inferenceservices", "ml");
        using var client = Client(cluster);

        var review = await client.AuthenticationV1.CreateTokenReviewAsync(new V1TokenReview { Spec = new V1TokenReviewSpec { Token = "job-token", Audiences = ["argohooks"] } }, cancellationToken: Ct);
        Assert.True(review.Status.Authenticated);
        Assert.Equal("system:serviceaccount:ml:model-writer", review.Status.User.Username);
        Assert.Contains("system:serviceaccounts:ml", review.Status.User.Groups);
        Assert.Equal(["argohooks"], review.Status.Audiences);

        var wrongAudience = await client.AuthenticationV1.CreateTokenReviewAsync(new V1TokenReview { Spec = new V1TokenReviewSpec { Token = "job-token", Audiences = ["other"] } }, cancellationToken: Ct);
        Assert.False(wrongAudience.Status.Authenticated);
        var unknown = await client.AuthenticationV1.CreateTokenReviewAsync(new V1TokenReview { Spec = new V1TokenReviewSpec { Token = "nope" } }, cancellationToken: Ct);
        Assert.False(unknown.Status.Authenticated);

        V1SubjectAccessReview Sar(string verb, string ns) => new()
        {
            Spec = new V1SubjectAccessReviewSpec
            {
                User = review.Status.User.Username,
                Groups = review.Status.User.Groups,
                ResourceAttributes = new V1ResourceAttributes { Verb = verb, Group = "serving.kserve.io", Resource = "inferenceservices", NamespaceProperty = ns },
            },
        };
        Assert.True((await client.AuthorizationV1.CreateSubjectAccessReviewAsync(Sar("patch", "ml"), cancellationToken: Ct)).Status.Allowed);
        Assert.False((await client.AuthorizationV1.CreateSubjectAccessReviewAsync(Sar("patch", "default"), cancellationToken: Ct)).Status.Allowed);
        Assert.False((await client.AuthorizationV1.CreateSubjectAccessReviewAsync(Sar("delete", "ml"), cancellationToken: Ct)).Status.Allowed);

        // With RequireAuthentication the API itself checks tokens and rules.
        using var anonymous = Client(cluster, token: "nope");
        await ExpectHttpErrorAsync(() => anonymous.CoreV1.ListNamespacedPodAsync("ml", cancellationToken: Ct), HttpStatusCode.Unauthorized);
        cluster.Access.AddToken("reader", "reader");
        using var reader = Client(cluster, token: "reader");
        var forbidden = await ExpectHttpErrorAsync(() => reader.CoreV1.ListNamespacedPodAsync("ml", cancellationToken: Ct), HttpStatusCode.Forbidden);
        Assert.Equal("Forbidden", StatusBody(forbidden).Str("reason"));
        cluster.Access.Allow("reader", "list", "", "pods", "ml");
        Assert.Empty((await reader.CoreV1.ListNamespacedPodAsync("ml", cancellationToken: Ct)).Items);
    }

    [Fact]
    public async Task Events_can_be_created_listed_and_patched_in_both_api_groups()
    {
        await using var cluster = await StartAsync();
        cluster.Controllers.Paused = true;
        using var client = Client(cluster);
        var core = await client.CoreV1.CreateNamespacedEventAsync(new Corev1Event
        {
            Metadata = new V1ObjectMeta { GenerateName = "iris." },
            InvolvedObject = new V1ObjectReference { ApiVersion = "serving.kserve.io/v1beta1", Kind = "InferenceService", Name = "iris", NamespaceProperty = "ml" },
            Reason = "Verified",
            Message = "The model answers.",
            Type = "Normal",
            Count = 1,
        }, "ml", cancellationToken: Ct);
        Assert.StartsWith("iris.", core.Metadata.Name);
        var patched = await client.CoreV1.PatchNamespacedEventAsync(new V1Patch("{\"count\":2}", V1Patch.PatchType.MergePatch), core.Metadata.Name, "ml", cancellationToken: Ct);
        Assert.Equal(2, patched.Count);
        var listed = await client.CoreV1.ListNamespacedEventAsync("ml", fieldSelector: "involvedObject.name=iris", cancellationToken: Ct);
        Assert.Single(listed.Items);

        var modern = await client.EventsV1.CreateNamespacedEventAsync(new Eventsv1Event
        {
            Metadata = new V1ObjectMeta { Name = "iris.verified" },
            EventTime = DateTime.UtcNow,
            ReportingController = "argohooks.io/hook-service",
            ReportingInstance = "argohooks-0",
            Action = "Verify",
            Reason = "Verified",
            Regarding = new V1ObjectReference { Kind = "InferenceService", Name = "iris", NamespaceProperty = "ml" },
            Type = "Normal",
        }, "ml", cancellationToken: Ct);
        Assert.Equal("iris.verified", modern.Metadata.Name);
        Assert.Equal("iris", modern.Regarding.Name);

        // One store behind both APIs, with Kubernetes' field renames.
        var asModern = (await client.EventsV1.ListNamespacedEventAsync("ml", fieldSelector: "regarding.name=iris", cancellationToken: Ct)).Items;
        Assert.Equal(2, asModern.Count);
        Assert.Equal("The model answers.", asModern.Single(e => e.Metadata.Name == core.Metadata.Name).Note);
        var asCore = await client.CoreV1.ReadNamespacedEventAsync("iris.verified", "ml", cancellationToken: Ct);
        Assert.Equal("argohooks.io/hook-service", asCore.ReportingComponent);
        Assert.Equal("InferenceService", asCore.InvolvedObject.Kind);
        var notePatch = new V1Patch("{\"note\":\"Verified again.\"}", V1Patch.PatchType.MergePatch);
        var repatched = await client.EventsV1.PatchNamespacedEventAsync(notePatch, "iris.verified", "ml", cancellationToken: Ct);
        Assert.Equal("Verified again.", repatched.Note);
        Assert.Equal("Verified again.", (await client.CoreV1.ReadNamespacedEventAsync("iris.verified", "ml", cancellationToken: Ct)).Message);
        Assert.Equal("Verified again.", cluster.Get("events.k8s.io/v1", "Event", "ml", "iris.verified")!["note"]!.GetValue<string>());
        Assert.Equal(2, cluster.List("events.k8s.io/v1", "Event", "ml").Count);
        Assert.Equal(2, cluster.List("v1", "Event", "ml").Count);
    }
}
