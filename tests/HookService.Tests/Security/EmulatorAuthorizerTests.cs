using ArgoHooks.ClusterEmulator;
using ArgoHooks.HookService.Security;
using ArgoHooks.HookService.Tests.Kubernetes;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace ArgoHooks.HookService.Tests.Security;

public class EmulatorAuthorizerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string JobToken = "job-token";
    private const string ReaderToken = "reader-token";

    private static async Task<EmulatorHarness> StartAsync(Dictionary<string, string?>? settings = null)
    {
        var h = await EmulatorHarness.StartAsync(settings: settings);
        h.Cluster.Access.AddServiceAccountToken(JobToken, EmulatorHarness.Namespace, "model-job", audiences: ["argohooks"]);
        h.Cluster.Access.AddServiceAccountToken(ReaderToken, EmulatorHarness.Namespace, "reader", audiences: ["argohooks"]);
        h.Cluster.Access.AddServiceAccountToken("api-only-token", EmulatorHarness.Namespace, "model-job");
        h.Cluster.Access.Allow($"system:serviceaccount:{EmulatorHarness.Namespace}:model-job", "patch", "serving.kserve.io", "inferenceservices", EmulatorHarness.Namespace);
        h.Cluster.Access.Allow($"system:serviceaccount:{EmulatorHarness.Namespace}:reader", "get", "serving.kserve.io", "inferenceservices", EmulatorHarness.Namespace);
        return h;
    }

    private static long Reviews(EmulatorHarness h) =>
        h.Cluster.Requests.Count("create", "tokenreviews") + h.Cluster.Requests.Count("create", "subjectaccessreviews");

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not-a-token")]
    [InlineData("api-only-token")] // valid for the API server, not for the argohooks audience
    public async Task Missing_unknown_or_wrong_audience_tokens_are_unauthenticated(string? token)
    {
        await using var h = await StartAsync();

        var result = await h.Get<ICallerAuthorizer>().AuthorizeAsync(token, EmulatorHarness.Namespace, Ct);

        Assert.Equal(CallerVerdict.Unauthenticated, result.Verdict);
        Assert.Equal(0, h.Cluster.Requests.Count("create", "subjectaccessreviews"));
    }

    [Fact]
    public async Task An_identity_that_may_not_patch_is_forbidden()
    {
        await using var h = await StartAsync();

        var result = await h.Get<ICallerAuthorizer>().AuthorizeAsync(ReaderToken, EmulatorHarness.Namespace, Ct);

        Assert.Equal(CallerVerdict.Forbidden, result.Verdict);
        Assert.Equal($"system:serviceaccount:{EmulatorHarness.Namespace}:reader", result.User);
    }

    [Fact]
    public async Task Patch_permission_allows_only_in_its_namespace()
    {
        await using var h = await StartAsync();
        var authorizer = h.Get<ICallerAuthorizer>();

        var home = await authorizer.AuthorizeAsync(JobToken, EmulatorHarness.Namespace, Ct);
        var elsewhere = await authorizer.AuthorizeAsync(JobToken, "team-b", Ct);

        Assert.Equal(CallerVerdict.Allowed, home.Verdict);
        Assert.Equal($"system:serviceaccount:{EmulatorHarness.Namespace}:model-job", home.User);
        Assert.Equal(CallerVerdict.Forbidden, elsewhere.Verdict);
    }

    [Fact]
    public async Task Repeated_calls_are_answered_from_the_cache()
    {
        await using var h = await StartAsync();
        var authorizer = h.Get<ICallerAuthorizer>();
        await authorizer.AuthorizeAsync(JobToken, EmulatorHarness.Namespace, Ct);
        await authorizer.AuthorizeAsync(ReaderToken, EmulatorHarness.Namespace, Ct);
        await authorizer.AuthorizeAsync("not-a-token", EmulatorHarness.Namespace, Ct);
        var afterFirst = Reviews(h);

        var allowed = await authorizer.AuthorizeAsync(JobToken, EmulatorHarness.Namespace, Ct);
        var forbidden = await authorizer.AuthorizeAsync(ReaderToken, EmulatorHarness.Namespace, Ct);
        var unknown = await authorizer.AuthorizeAsync("not-a-token", EmulatorHarness.Namespace, Ct);

        Assert.Equal(5, afterFirst); // 3 token reviews + 2 access reviews
        Assert.Equal(afterFirst, Reviews(h));
        Assert.Equal((CallerVerdict.Allowed, CallerVerdict.Forbidden, CallerVerdict.Unauthenticated), (allowed.Verdict, forbidden.Verdict, unknown.Verdict));
    }

    [Fact]
    public async Task Cached_decisions_expire_deny_after_30_seconds_allow_after_5_minutes()
    {
        await using var h = await StartAsync();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var authorizer = new KubernetesCallerAuthorizer(h.Client, Options.Create(new SecurityOptions()), clock, NullLogger<KubernetesCallerAuthorizer>.Instance);
        await authorizer.AuthorizeAsync(JobToken, EmulatorHarness.Namespace, Ct);
        await authorizer.AuthorizeAsync(ReaderToken, EmulatorHarness.Namespace, Ct);
        h.Cluster.Access.Allow($"system:serviceaccount:{EmulatorHarness.Namespace}:reader", "patch", "serving.kserve.io", "inferenceservices", EmulatorHarness.Namespace);
        h.Cluster.Access.RemoveToken(JobToken);

        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(CallerVerdict.Forbidden, (await authorizer.AuthorizeAsync(ReaderToken, EmulatorHarness.Namespace, Ct)).Verdict);
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(CallerVerdict.Allowed, (await authorizer.AuthorizeAsync(ReaderToken, EmulatorHarness.Namespace, Ct)).Verdict);
        // The job's token was revoked, but its allow decision and identity are still cached (token reviews ~2 min).
        Assert.Equal(CallerVerdict.Allowed, (await authorizer.AuthorizeAsync(JobToken, EmulatorHarness.Namespace, Ct)).Verdict);
        clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(CallerVerdict.Unauthenticated, (await authorizer.AuthorizeAsync(JobToken, EmulatorHarness.Namespace, Ct)).Verdict);
    }

    [Fact]
    public async Task Namespaces_outside_the_allow_list_are_forbidden_without_asking()
    {
        await using var h = await StartAsync(new() { ["ArgoHooks:Security:AllowedNamespaces:0"] = "team-b" });
        var authorizer = h.Get<ICallerAuthorizer>();

        var result = await authorizer.AuthorizeAsync(JobToken, EmulatorHarness.Namespace, Ct);

        Assert.Equal(CallerVerdict.Forbidden, result.Verdict);
        Assert.Equal(0, h.Cluster.Requests.Count("create", "subjectaccessreviews"));
    }

    [Fact]
    public async Task An_unreachable_api_server_is_unavailable_not_unauthenticated()
    {
        await using var h = await StartAsync(new()
        {
            ["ArgoHooks:Kubernetes:MaxRetries"] = "1",
        });
        h.Cluster.Faults.Add(new FaultRule { Resource = "tokenreviews", StatusCodes = [503] });

        await Assert.ThrowsAsync<CallerAuthorizationUnavailableException>(() => h.Get<ICallerAuthorizer>().AuthorizeAsync(JobToken, EmulatorHarness.Namespace, Ct));
    }

    [Fact]
    public async Task The_service_account_of_the_hook_service_lacking_review_rights_is_unavailable()
    {
        await using var h = await StartAsync();
        h.Cluster.Faults.Add(new FaultRule { Resource = "subjectaccessreviews", StatusCodes = [403] });

        await Assert.ThrowsAsync<CallerAuthorizationUnavailableException>(() => h.Get<ICallerAuthorizer>().AuthorizeAsync(JobToken, EmulatorHarness.Namespace, Ct));
    }
}
