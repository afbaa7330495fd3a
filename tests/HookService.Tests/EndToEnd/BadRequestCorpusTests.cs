using System.Net;
using System.Text;
using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Tests.Fakes;

namespace ArgoHooks.HookService.Tests.EndToEnd;

/// <summary>One emulated cluster where a valid request would restart anomaly-detector (its model is there).</summary>
public sealed class CorpusCluster : IAsyncLifetime
{
    public EmulatedService Service { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Service = await EmulatedService.StartAsync();
        await Service.CreatePredictorBeforeModelAsync("anomaly-detector");
        await File.WriteAllBytesAsync(Service.ModelFile("anomaly-detector"), [1, 2, 3], TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync() => await Service.DisposeAsync();
}

/// <summary>
/// Every malformed, mistyped, oversized, traversing or look-alike request is a 4xx application/problem+json that
/// names the offending field, and changes nothing in the cluster (no annotation, no restart, no Event).
/// </summary>
public sealed class BadRequestCorpusTests(CorpusCluster corpus) : IClassFixture<CorpusCluster>
{
    private const string Ns = "self-healing-platform";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public sealed record BadRequest(string Name, byte[] Body, string? ContentType, int Status, string Field)
    {
        public override string ToString() => Name;
    }

    private static BadRequest Json(string name, string json, string field, int status = 400) =>
        new(name, Encoding.UTF8.GetBytes(json), "application/json", status, field);

    private static BadRequest Isvc(string name, string isvcJsonString, string field = "inferenceServices[0]") =>
        Json(name, $$"""{"namespace":"{{Ns}}","inferenceServices":[{{isvcJsonString}}]}""", field);

    public static TheoryData<BadRequest> Corpus()
    {
        var longName = new string('a', 64);
        var many = string.Join(",", Enumerable.Range(0, 101).Select(i => $"\"isvc-{i}\""));
        var cases = new List<BadRequest>
        {
            // malformed JSON
            Json("unterminated object", "{", "body"),
            Json("empty body", "", "body"),
            Json("not json", "restart everything please", "body"),
            Json("trailing comma", $$"""{"namespace":"{{Ns}}",}""", "body"),
            Json("comment", $$"""{"namespace":"{{Ns}}" /* hi */}""", "body"),
            Json("two documents", $$"""{"namespace":"{{Ns}}"}{"namespace":"x"}""", "body"),
            Json("array body", "[]", "body"),
            Json("string body", "\"self-healing-platform\"", "body"),
            Json("null body", "null", "body"),
            Json("number body", "42", "body"),
            new("invalid utf-8 in a value", [.. "{\"namespace\":\""u8.ToArray(), 0xC3, 0x28, .. "\"}"u8.ToArray()], "application/json", 400, "namespace"),
            new("invalid utf-8 outside strings", [.. "{\"namespace\":"u8.ToArray(), 0xC3, 0x28, .. "}"u8.ToArray()], "application/json", 400, "body"),
            Json("deeply nested", new string('[', 200) + new string(']', 200), "body"),
            // wrong types
            Json("namespace number", """{"namespace":7}""", "namespace"),
            Json("namespace null", """{"namespace":null}""", "namespace"),
            Json("namespace object", """{"namespace":{"name":"x"}}""", "namespace"),
            Json("namespace array", $$"""{"namespace":["{{Ns}}"]}""", "namespace"),
            Json("list is a string", $$"""{"namespace":"{{Ns}}","inferenceServices":"anomaly-detector"}""", "inferenceServices"),
            Json("list is an object", $$$"""{"namespace":"{{{Ns}}}","inferenceServices":{"0":"anomaly-detector"}}""", "inferenceServices"),
            Isvc("name is a number", "1"),
            Isvc("name is null", "null"),
            Isvc("name is an array", "[\"anomaly-detector\"]"),
            Isvc("name is true", "true"),
            Json("runId number", $$"""{"namespace":"{{Ns}}","runId":12345}""", "runId"),
            Json("runId object", $$$"""{"namespace":"{{{Ns}}}","runId":{}}""", "runId"),
            Json("timeout as string", $$"""{"namespace":"{{Ns}}","artifactTimeoutSeconds":"1800"}""", "artifactTimeoutSeconds"),
            Json("timeout fractional", $$"""{"namespace":"{{Ns}}","artifactTimeoutSeconds":1.5}""", "artifactTimeoutSeconds"),
            Json("timeout boolean", $$"""{"namespace":"{{Ns}}","artifactTimeoutSeconds":true}""", "artifactTimeoutSeconds"),
            // out of range and huge
            Json("timeout zero", $$"""{"namespace":"{{Ns}}","artifactTimeoutSeconds":0}""", "artifactTimeoutSeconds"),
            Json("timeout negative", $$"""{"namespace":"{{Ns}}","artifactTimeoutSeconds":-1}""", "artifactTimeoutSeconds"),
            Json("timeout over a day", $$"""{"namespace":"{{Ns}}","artifactTimeoutSeconds":86401}""", "artifactTimeoutSeconds"),
            Json("timeout beyond long", $$"""{"namespace":"{{Ns}}","artifactTimeoutSeconds":99999999999999999999999999}""", "artifactTimeoutSeconds"),
            Json("timeout exponent", $$"""{"namespace":"{{Ns}}","artifactTimeoutSeconds":1e400}""", "artifactTimeoutSeconds"),
            Json("namespace 64 characters", $$"""{"namespace":"{{longName}}"}""", "namespace"),
            Isvc("name 64 characters", $"\"{longName}\""),
            Json("101 InferenceServices", $$"""{"namespace":"{{Ns}}","inferenceServices":[{{many}}]}""", "inferenceServices"),
            Json("runId 64 characters", $$"""{"namespace":"{{Ns}}","runId":"{{longName}}"}""", "runId"),
            new("body over 64 KiB", Encoding.UTF8.GetBytes($$"""{"namespace":"{{Ns}}","runId":"{{new string('a', 70_000)}}"}"""), "application/json", 413, "body"),
            // traversal and separators
            Isvc("parent traversal", "\"../anomaly-detector\""),
            Isvc("nested traversal", "\"anomaly-detector/../../kube-system\""),
            Isvc("encoded traversal", "\"%2e%2e\""),
            Isvc("slash", "\"team/anomaly-detector\""),
            Isvc("backslash", "\"..\\\\anomaly-detector\""),
            Json("namespace dot-dot", """{"namespace":".."}""", "namespace"),
            Json("runId traversal", $$"""{"namespace":"{{Ns}}","runId":"../../etc/passwd"}""", "runId"),
            // unicode tricks
            Isvc("fullwidth letters", "\"ａnomaly-detector\""),
            Isvc("zero-width space", "\"anomaly\\u200b-detector\""),
            Isvc("right-to-left override", "\"anomaly\\u202e-detector\""),
            Isvc("cyrillic homoglyph", "\"\\u0430nomaly-detector\""),
            Isvc("combining accent", "\"anomaly-de\\u0301tector\""),
            Isvc("dotless i", "\"\\u0131nference\""),
            Isvc("lone surrogate", "\"\\ud800\""),
            Isvc("nul character", "\"anomaly\\u0000\""),
            Isvc("trailing newline", "\"anomaly-detector\\n\""),
            Isvc("uppercase", "\"Anomaly-Detector\""),
            Isvc("leading hyphen", "\"-anomaly-detector\""),
            Isvc("trailing hyphen", "\"anomaly-detector-\""),
            Isvc("empty name", "\"\""),
            Json("namespace with space", """{"namespace":"self healing"}""", "namespace"),
            // duplicates and unknown fields
            Json("duplicate namespace key", $$"""{"namespace":"{{Ns}}","namespace":"kube-system"}""", "namespace"),
            Json("duplicate list key", $$"""{"namespace":"{{Ns}}","inferenceServices":["anomaly-detector"],"inferenceServices":[]}""", "inferenceServices"),
            Json("duplicate name in list", $$"""{"namespace":"{{Ns}}","inferenceServices":["anomaly-detector","anomaly-detector"]}""", "inferenceServices[1]"),
            Json("field in other case", """{"Namespace":"self-healing-platform"}""", "Namespace"),
            Json("unknown field", $$"""{"namespace":"{{Ns}}","restartStrategy":"delete-pods"}""", "restartStrategy"),
            Json("prototype pollution", $$$"""{"namespace":"{{{Ns}}}","__proto__":{"admin":true}}""", "__proto__"),
            Json("missing namespace", """{"inferenceServices":["anomaly-detector"]}""", "namespace"),
            Json("empty object", "{}", "namespace"),
            // content type
            new("text/plain", Encoding.UTF8.GetBytes($$"""{"namespace":"{{Ns}}"}"""), "text/plain", 415, "Content-Type"),
            new("no content type", Encoding.UTF8.GetBytes($$"""{"namespace":"{{Ns}}"}"""), null, 415, "Content-Type"),
            new("latin-1 charset", Encoding.UTF8.GetBytes($$"""{"namespace":"{{Ns}}"}"""), "application/json; charset=iso-8859-1", 415, "Content-Type"),
            new("form post", Encoding.UTF8.GetBytes($"namespace={Ns}"), "application/x-www-form-urlencoded", 415, "Content-Type"),
        };
        var data = new TheoryData<BadRequest>();
        foreach (var item in cases) data.Add(item);
        return data;
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public async Task A_bad_run_request_is_a_problem_naming_the_field_and_changes_nothing(BadRequest bad)
    {
        var service = corpus.Service;
        var before = WriteCounts(service);
        var annotationsBefore = service.Annotations("anomaly-detector");

        using var response = await service.Host.Client.SendAsync(Api.Post(bad.Body, EmulatedService.CallerToken, bad.ContentType), Ct);

        Assert.Equal((HttpStatusCode)bad.Status, response.StatusCode);
        var problem = await Api.ReadProblemAsync(response);
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty(bad.Field, out var messages), $"errors names {string.Join(", ", errors.EnumerateObject().Select(field => field.Name))}, not {bad.Field}");
        Assert.False(string.IsNullOrWhiteSpace(messages[0].GetString()));

        Assert.Equal(before, WriteCounts(service));
        Assert.Equal(annotationsBefore, service.Annotations("anomaly-detector"));
        Assert.False(annotationsBefore.ContainsKey(ContractAnnotations.Phase));
        Assert.Equal(0, service.RestartsOf("anomaly-detector"));
    }

    [Theory]
    [InlineData("v1/runs/Upper-Case", "id")]
    [InlineData("v1/runs/a..b", "id")]
    [InlineData("v1/runs/some-run?waitSeconds=-1", "waitSeconds")]
    [InlineData("v1/runs/some-run?waitSeconds=601", "waitSeconds")]
    [InlineData("v1/runs/some-run?waitSeconds=ten", "waitSeconds")]
    [InlineData("v1/runs/some-run?waitSeconds=1&waitSeconds=2", "waitSeconds")]
    [InlineData("v1/runs/some-run?after=-5", "after")]
    [InlineData("v1/runs?namespace=..", "namespace")]
    public async Task A_bad_status_request_is_a_problem_naming_the_parameter(string path, string field)
    {
        using var response = await corpus.Service.Host.Client.SendAsync(Api.Get(path, EmulatedService.CallerToken), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await Api.ReadProblemAsync(response);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task A_valid_request_with_a_token_that_may_not_patch_there_is_403_and_changes_nothing()
    {
        var service = corpus.Service;
        var before = WriteCounts(service);

        using var forbidden = await service.Host.Client.SendAsync(Api.Post($$"""{"namespace":"{{Ns}}","inferenceServices":["anomaly-detector"]}""", EmulatedService.ForbiddenToken), Ct);
        using var unknownToken = await service.Host.Client.SendAsync(Api.Post($$"""{"namespace":"{{Ns}}","inferenceServices":["anomaly-detector"]}""", "forged-token"), Ct);

        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknownToken.StatusCode);
        await Api.ReadProblemAsync(forbidden);
        await Api.ReadProblemAsync(unknownToken);
        Assert.Equal(before, WriteCounts(service));
        Assert.Equal(0, service.RestartsOf("anomaly-detector"));
    }

    /// <summary>Writes the hook service could make: patches, updates, deletes, Events.</summary>
    private static (long Patches, long Updates, long Deletes, long Events) WriteCounts(EmulatedService service) =>
        (service.Cluster.Requests.Count("patch"), service.Cluster.Requests.Count("update"), service.Cluster.Requests.Count("delete"),
            service.Cluster.Requests.Count("create", "events"));
}
