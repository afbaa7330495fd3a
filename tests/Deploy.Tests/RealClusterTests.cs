using System.Net;
using System.Text;
using System.Text.Json;
using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Kubernetes;
using ArgoHooks.HookService.Security;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Testcontainers.K3s;

namespace ArgoHooks.Deploy.Tests;

/// <summary>
/// A real API server (k3s in Docker) with the rendered RBAC: the hook service account and the Job's
/// caller account, with real TokenRequest/TokenReview/SubjectAccessReview. Skipped where Docker is absent.
/// </summary>
public sealed class K3sCluster : IAsyncLifetime
{
    public const string HookNamespace = "argohooks";
    public const string CallerNamespace = "team-a";
    public const string OtherNamespace = "team-b";

    private K3sContainer? container;

    /// <summary>Why the cluster could not be started (then every test skips with it), or null.</summary>
    public string? UnavailableReason { get; private set; }

    public IKubernetes Admin { get; private set; } = null!;

    public KubernetesClientConfiguration AdminConfiguration { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var cancellation = TestContext.Current.CancellationToken;
        if (await DockerAvailability.WhyUnavailableAsync(cancellation) is { } reason)
        {
            UnavailableReason = "Docker is not available: " + reason;
            return;
        }

        if (Kustomize.Kubectl is null)
        {
            UnavailableReason = "kubectl is not on PATH: the manifests are rendered with `kubectl kustomize`.";
            return;
        }

        container = new K3sBuilder("rancher/k3s:v1.31.5-k3s1").Build();
        await container.StartAsync(cancellation);
        var kubeconfig = await container.GetKubeconfigAsync();
        AdminConfiguration = KubernetesClientConfiguration.BuildConfigFromConfigFile(new MemoryStream(Encoding.UTF8.GetBytes(kubeconfig)));
        Admin = new Kubernetes(AdminConfiguration);

        await InstallInferenceServiceCrdAsync(cancellation);
        foreach (var name in new[] { HookNamespace, CallerNamespace, OtherNamespace })
        {
            await Admin.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = name } }, cancellationToken: cancellation);
        }

        // The hook service's identity and RBAC from deploy/base (not its Deployment: no image here),
        // a grant for team-a, and the Job's caller identity in team-a.
        await ApplyAsync(await Kustomize.RenderTextAsync("base", cancellation), null, cancellation);
        await ApplyAsync(await Kustomize.RenderTextAsync("grant", cancellation), CallerNamespace, cancellation);
        await ApplyAsync(await Kustomize.RenderTextAsync("job/caller-rbac", cancellation), CallerNamespace, cancellation);
    }

    public async ValueTask DisposeAsync()
    {
        if (container is not null)
        {
            await container.DisposeAsync();
        }
    }

    /// <summary>A client authenticated as a ServiceAccount with a fresh TokenRequest token (API server audience).</summary>
    public async Task<IKubernetes> ClientForAsync(string @namespace, string serviceAccount, CancellationToken cancellationToken)
    {
        var token = await TokenAsync(@namespace, serviceAccount, null, cancellationToken);
        return new Kubernetes(new KubernetesClientConfiguration
        {
            Host = AdminConfiguration.Host,
            SslCaCerts = AdminConfiguration.SslCaCerts,
            SkipTlsVerify = AdminConfiguration.SkipTlsVerify,
            AccessToken = token,
        });
    }

    public async Task<string> TokenAsync(string @namespace, string serviceAccount, string? audience, CancellationToken cancellationToken)
    {
        var request = new Authenticationv1TokenRequest
        {
            Spec = new V1TokenRequestSpec { Audiences = audience is null ? [] : [audience], ExpirationSeconds = 3600 },
        };
        var response = await Admin.CoreV1.CreateNamespacedServiceAccountTokenAsync(request, serviceAccount, @namespace, cancellationToken: cancellationToken);
        return response.Status.Token;
    }

    private async Task InstallInferenceServiceCrdAsync(CancellationToken cancellationToken)
    {
        var crd = new V1CustomResourceDefinition
        {
            Metadata = new V1ObjectMeta { Name = "inferenceservices.serving.kserve.io" },
            Spec = new V1CustomResourceDefinitionSpec
            {
                Group = "serving.kserve.io",
                Scope = "Namespaced",
                Names = new V1CustomResourceDefinitionNames { Kind = "InferenceService", Plural = "inferenceservices", Singular = "inferenceservice", ShortNames = ["isvc"] },
                Versions =
                [
                    new V1CustomResourceDefinitionVersion
                    {
                        Name = "v1beta1",
                        Served = true,
                        Storage = true,
                        Schema = new V1CustomResourceValidation { OpenAPIV3Schema = new V1JSONSchemaProps { Type = "object", XKubernetesPreserveUnknownFields = true } },
                    },
                ],
            },
        };
        await Admin.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd, cancellationToken: cancellationToken);
        for (var attempt = 0; attempt < 60; attempt++)
        {
            var current = await Admin.ApiextensionsV1.ReadCustomResourceDefinitionAsync(crd.Metadata.Name, cancellationToken: cancellationToken);
            if (current.Status?.Conditions?.Any(condition => condition is { Type: "Established", Status: "True" }) == true)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }

        throw new TimeoutException("The InferenceService CRD was not Established within 30 s.");
    }

    /// <summary>Creates the RBAC objects of a rendered kustomization; namespaceless ones go to <paramref name="namespace"/>.</summary>
    private async Task ApplyAsync(string yaml, string? @namespace, CancellationToken cancellationToken)
    {
        foreach (var item in KubernetesYaml.LoadAllFromString(yaml))
        {
            switch (item)
            {
                case V1ServiceAccount account:
                    await Admin.CoreV1.CreateNamespacedServiceAccountAsync(account, account.Metadata.NamespaceProperty ?? @namespace, cancellationToken: cancellationToken);
                    break;
                case V1ClusterRole role:
                    await Admin.RbacAuthorizationV1.CreateClusterRoleAsync(role, cancellationToken: cancellationToken);
                    break;
                case V1ClusterRoleBinding binding:
                    await Admin.RbacAuthorizationV1.CreateClusterRoleBindingAsync(binding, cancellationToken: cancellationToken);
                    break;
                case V1Role role:
                    await Admin.RbacAuthorizationV1.CreateNamespacedRoleAsync(role, role.Metadata.NamespaceProperty ?? @namespace, cancellationToken: cancellationToken);
                    break;
                case V1RoleBinding binding:
                    var target = binding.Metadata.NamespaceProperty ?? @namespace!;
                    foreach (var subject in binding.Subjects.Where(subject => subject.Kind == "ServiceAccount" && subject.NamespaceProperty is null))
                    {
                        // What the application's kustomization `namespace:` does for the caller subject.
                        subject.NamespaceProperty = target;
                    }

                    await Admin.RbacAuthorizationV1.CreateNamespacedRoleBindingAsync(binding, target, cancellationToken: cancellationToken);
                    break;
                default:
                    // Deployment, Service, NetworkPolicy: not needed for RBAC checks (and no image to run).
                    break;
            }
        }
    }
}

[Trait("Category", "RealCluster")]
public sealed class RealClusterTests(K3sCluster cluster) : IClassFixture<K3sCluster>
{
    private const string CallerUser = "system:serviceaccount:" + K3sCluster.CallerNamespace + ":argohooks-caller";

    private CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private void RequireCluster()
    {
        if (cluster.UnavailableReason is { } reason)
        {
            Assert.Skip(reason);
        }
    }

    [Fact]
    public async Task The_hook_service_authenticates_an_argohooks_audience_caller_token_with_a_token_review()
    {
        RequireCluster();
        var hook = await cluster.ClientForAsync(K3sCluster.HookNamespace, "argohooks", Cancellation);
        var callerToken = await cluster.TokenAsync(K3sCluster.CallerNamespace, "argohooks-caller", "argohooks", Cancellation);

        var review = await hook.AuthenticationV1.CreateTokenReviewAsync(
            new V1TokenReview { Spec = new V1TokenReviewSpec { Token = callerToken, Audiences = ["argohooks"] } }, cancellationToken: Cancellation);
        Assert.True(review.Status.Authenticated);
        Assert.Equal(CallerUser, review.Status.User.Username);
        Assert.Contains("argohooks", review.Status.Audiences);

        // A token for the API server's audience is not a token for argohooks.
        var apiToken = await cluster.TokenAsync(K3sCluster.CallerNamespace, "argohooks-caller", null, Cancellation);
        var wrongAudience = await hook.AuthenticationV1.CreateTokenReviewAsync(
            new V1TokenReview { Spec = new V1TokenReviewSpec { Token = apiToken, Audiences = ["argohooks"] } }, cancellationToken: Cancellation);
        Assert.NotEqual(true, wrongAudience.Status.Authenticated);
    }

    [Fact]
    public async Task The_caller_token_is_useless_against_the_api_server()
    {
        RequireCluster();
        var callerToken = await cluster.TokenAsync(K3sCluster.CallerNamespace, "argohooks-caller", "argohooks", Cancellation);
        var asCaller = new Kubernetes(new KubernetesClientConfiguration
        {
            Host = cluster.AdminConfiguration.Host,
            SslCaCerts = cluster.AdminConfiguration.SslCaCerts,
            SkipTlsVerify = cluster.AdminConfiguration.SkipTlsVerify,
            AccessToken = callerToken,
        });
        var failure = await Assert.ThrowsAsync<HttpOperationException>(() =>
            asCaller.CustomObjects.ListNamespacedCustomObjectAsync("serving.kserve.io", "v1beta1", K3sCluster.CallerNamespace, "inferenceservices", cancellationToken: Cancellation));
        Assert.Equal(HttpStatusCode.Unauthorized, failure.Response.StatusCode);
    }

    [Fact]
    public async Task The_subject_access_review_allows_the_caller_only_in_its_namespace()
    {
        RequireCluster();
        var hook = await cluster.ClientForAsync(K3sCluster.HookNamespace, "argohooks", Cancellation);
        Assert.True(await CallerMayPatchAsync(hook, K3sCluster.CallerNamespace, "patch"));
        Assert.False(await CallerMayPatchAsync(hook, K3sCluster.OtherNamespace, "patch"));
        // Exactly patch: the caller's Role grants nothing else.
        Assert.False(await CallerMayPatchAsync(hook, K3sCluster.CallerNamespace, "delete"));
        Assert.False(await CallerMayPatchAsync(hook, K3sCluster.CallerNamespace, "get"));
    }

    [Fact]
    public async Task The_hook_service_may_annotate_inferenceservices_in_granted_namespaces_but_not_delete_pods()
    {
        RequireCluster();
        foreach (var @namespace in new[] { K3sCluster.CallerNamespace, K3sCluster.OtherNamespace })
        {
            var isvc = new Dictionary<string, object>
            {
                ["apiVersion"] = "serving.kserve.io/v1beta1",
                ["kind"] = "InferenceService",
                ["metadata"] = new Dictionary<string, object> { ["name"] = "anomaly-detector" },
                ["spec"] = new Dictionary<string, object> { ["predictor"] = new Dictionary<string, object>() },
            };
            await cluster.Admin.CustomObjects.CreateNamespacedCustomObjectAsync(isvc, "serving.kserve.io", "v1beta1", @namespace, "inferenceservices", cancellationToken: Cancellation);
        }

        var hook = await cluster.ClientForAsync(K3sCluster.HookNamespace, "argohooks", Cancellation);
        var patch = new V1Patch(
            """{"metadata":{"annotations":{"argohooks.io/phase":"Verifying"}},"spec":{"predictor":{"annotations":{"argohooks.io/restarted-at":"2026-01-01T00:00:00.000Z"}}}}""",
            V1Patch.PatchType.MergePatch);
        await hook.CustomObjects.PatchNamespacedCustomObjectAsync(patch, "serving.kserve.io", "v1beta1", K3sCluster.CallerNamespace, "inferenceservices", "anomaly-detector", cancellationToken: Cancellation);

        // team-b was never granted: the base binds the work only in its own namespace.
        var elsewhere = await Assert.ThrowsAsync<HttpOperationException>(() =>
            hook.CustomObjects.PatchNamespacedCustomObjectAsync(patch, "serving.kserve.io", "v1beta1", K3sCluster.OtherNamespace, "inferenceservices", "anomaly-detector", cancellationToken: Cancellation));
        Assert.Equal(HttpStatusCode.Forbidden, elsewhere.Response.StatusCode);

        // Listing predictor pods is allowed; deleting them and patching Deployments is not (base strategy).
        await hook.CoreV1.ListNamespacedPodAsync(K3sCluster.CallerNamespace, labelSelector: "component=predictor", cancellationToken: Cancellation);
        var delete = await Assert.ThrowsAsync<HttpOperationException>(() =>
            hook.CoreV1.DeleteNamespacedPodAsync("anomaly-detector-predictor-0", K3sCluster.CallerNamespace, cancellationToken: Cancellation));
        Assert.Equal(HttpStatusCode.Forbidden, delete.Response.StatusCode);
        var deploymentPatch = await Assert.ThrowsAsync<HttpOperationException>(() =>
            hook.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch("{}", V1Patch.PatchType.MergePatch), "anomaly-detector-predictor", K3sCluster.CallerNamespace, cancellationToken: Cancellation));
        Assert.Equal(HttpStatusCode.Forbidden, deploymentPatch.Response.StatusCode);
    }

    [Fact]
    public async Task The_hook_services_own_authorizer_decides_with_the_deployed_rbac()
    {
        RequireCluster();
        await using var provider = await HookServiceProviderAsync();
        var authorizer = provider.GetRequiredService<ICallerAuthorizer>();

        var callerToken = await cluster.TokenAsync(K3sCluster.CallerNamespace, "argohooks-caller", "argohooks", Cancellation);
        var allowed = await authorizer.AuthorizeAsync(callerToken, K3sCluster.CallerNamespace, Cancellation);
        Assert.Equal((CallerVerdict.Allowed, CallerUser), (allowed.Verdict, allowed.User));
        Assert.Equal(CallerVerdict.Forbidden, (await authorizer.AuthorizeAsync(callerToken, K3sCluster.OtherNamespace, Cancellation)).Verdict);

        var apiAudienceToken = await cluster.TokenAsync(K3sCluster.CallerNamespace, "argohooks-caller", null, Cancellation);
        Assert.Equal(CallerVerdict.Unauthenticated, (await authorizer.AuthorizeAsync(apiAudienceToken, K3sCluster.CallerNamespace, Cancellation)).Verdict);
        Assert.Equal(CallerVerdict.Unauthenticated, (await authorizer.AuthorizeAsync("not-a-token", K3sCluster.CallerNamespace, Cancellation)).Verdict);
        Assert.Equal(CallerVerdict.Unauthenticated, (await authorizer.AuthorizeAsync(null, K3sCluster.CallerNamespace, Cancellation)).Verdict);
    }

    [Fact]
    public async Task The_hook_services_own_adapters_write_phase_restart_and_event_with_the_deployed_rbac()
    {
        RequireCluster();
        const string name = "predictive-analytics";
        var isvc = new Dictionary<string, object>
        {
            ["apiVersion"] = "serving.kserve.io/v1beta1",
            ["kind"] = "InferenceService",
            ["metadata"] = new Dictionary<string, object>
            {
                ["name"] = name,
                ["annotations"] = new Dictionary<string, object> { ["serving.kserve.io/deploymentMode"] = "RawDeployment" },
            },
            ["spec"] = new Dictionary<string, object>
            {
                ["predictor"] = new Dictionary<string, object>
                {
                    ["model"] = new Dictionary<string, object> { ["modelFormat"] = new Dictionary<string, object> { ["name"] = "sklearn" }, ["storageUri"] = "pvc://model-storage-pvc/" + name },
                },
            },
        };
        await cluster.Admin.CustomObjects.CreateNamespacedCustomObjectAsync(isvc, "serving.kserve.io", "v1beta1", K3sCluster.CallerNamespace, "inferenceservices", cancellationToken: Cancellation);

        await using var provider = await HookServiceProviderAsync();
        var store = provider.GetRequiredService<IInferenceServiceStore>();
        var before = await store.GetAsync(K3sCluster.CallerNamespace, name, Cancellation);
        Assert.NotNull(before);
        Assert.Contains(await store.ListAsync(K3sCluster.CallerNamespace, Cancellation), item => item.Name == name);

        var verifying = await store.RecordPhaseAsync(before, new PhaseRecord(Phases.Verifying, before.Generation, "Probing the model server.", "run-k3s"), Cancellation);
        Assert.Equal(Phases.Verifying, verifying.Annotation(ContractAnnotations.Phase));

        // The default restart: one merge patch of spec.predictor.annotations (+ the Restarting phase).
        var restarter = provider.GetRequiredService<IPredictorRestarter>();
        Assert.Equal("inferenceservice", restarter.Strategy);
        var ticket = await restarter.RestartAsync(verifying, new PhaseRecord(Phases.Restarting, verifying.Generation, "Restarting the predictor.", "run-k3s"), Cancellation);
        Assert.Empty(await provider.GetRequiredService<IPredictorPods>().ListAsync(ticket.After, Cancellation));

        var live = JsonSerializer.SerializeToElement(await cluster.Admin.CustomObjects.GetNamespacedCustomObjectAsync(
            "serving.kserve.io", "v1beta1", K3sCluster.CallerNamespace, "inferenceservices", name, cancellationToken: Cancellation));
        Assert.Equal(ticket.RestartedAt, live.GetProperty("spec").GetProperty("predictor").GetProperty("annotations").GetProperty(ContractAnnotations.RestartedAt).GetString());
        Assert.Equal(Phases.Restarting, live.GetProperty("metadata").GetProperty("annotations").GetProperty(ContractAnnotations.Phase).GetString());
        Assert.Equal(before.Generation + 1, live.GetProperty("metadata").GetProperty("generation").GetInt64());

        // Events are a courtesy (failures are only logged), so look for them: events create must be granted.
        var events = await cluster.Admin.EventsV1.ListNamespacedEventAsync(K3sCluster.CallerNamespace, cancellationToken: Cancellation);
        Assert.Contains(events.Items, item => item.Regarding?.Name == name && item.ReportingController == KubernetesEventRecorder.ReportingController);
    }

    private async Task<ServiceProvider> HookServiceProviderAsync()
    {
        var hookToken = await cluster.TokenAsync(K3sCluster.HookNamespace, "argohooks", null, Cancellation);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ArgoHooks:Kubernetes:Host"] = cluster.AdminConfiguration.Host,
            ["ArgoHooks:Kubernetes:Token"] = hookToken,
            // k3s serves a self-signed certificate; the token, not TLS, is what these tests are about.
            ["ArgoHooks:Kubernetes:SkipTlsVerify"] = "true",
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddKubernetesAdapters(configuration);
        services.AddCallerAuthorization(configuration);
        return services.BuildServiceProvider();
    }

    private async Task<bool> CallerMayPatchAsync(IKubernetes hook, string @namespace, string verb)
    {
        var review = await hook.AuthorizationV1.CreateSubjectAccessReviewAsync(
            new V1SubjectAccessReview
            {
                Spec = new V1SubjectAccessReviewSpec
                {
                    User = CallerUser,
                    Groups = ["system:serviceaccounts", "system:serviceaccounts:" + K3sCluster.CallerNamespace, "system:authenticated"],
                    ResourceAttributes = new V1ResourceAttributes { Group = "serving.kserve.io", Resource = "inferenceservices", Verb = verb, NamespaceProperty = @namespace },
                },
            },
            cancellationToken: Cancellation);
        return review.Status.Allowed;
    }
}
