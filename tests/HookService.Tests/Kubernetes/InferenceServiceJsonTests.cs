using System.Text.Json;
using System.Text.Json.Nodes;
using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Kubernetes;

namespace ArgoHooks.HookService.Tests.Kubernetes;

public class InferenceServiceJsonTests
{
    private static JsonObject Parse(string json) => InferenceServiceJson.ToNode(JsonDocument.Parse(json).RootElement.Clone());

    [Fact]
    public void Raw_mode_with_model_storage_uri()
    {
        var snapshot = InferenceServiceJson.ToSnapshot(Parse("""
            {"apiVersion":"serving.kserve.io/v1beta1","kind":"InferenceService",
             "metadata":{"name":"anomaly-detector","namespace":"ns","uid":"u-1","generation":3,"resourceVersion":"42",
               "annotations":{"serving.kserve.io/deploymentMode":"Knative","argohooks.io/phase":"Verified"}},
             "spec":{"predictor":{"annotations":{"argohooks.io/restarted-at":"2026-01-01T00:00:00.000Z"},
               "model":{"modelFormat":{"name":"sklearn"},"storageUri":"pvc://model-storage-pvc/anomaly"}}},
             "status":{"deploymentMode":"Standard"}}
            """));

        Assert.Equal(("ns", "anomaly-detector", "u-1", 3L, "42"), (snapshot.Namespace, snapshot.Name, snapshot.Uid, snapshot.Generation, snapshot.ResourceVersion));
        Assert.Equal(InferenceServiceJson.RawDeployment, snapshot.DeploymentMode); // status wins over the annotation
        Assert.Equal("pvc://model-storage-pvc/anomaly", snapshot.StorageUri);
        Assert.Equal("anomaly-detector", snapshot.ModelName);
        Assert.Equal("2026-01-01T00:00:00.000Z", snapshot.RestartedAt);
        Assert.Equal("Verified", snapshot.Annotation(ContractAnnotations.Phase));
        Assert.Null(snapshot.LatestCreatedRevision);
    }

    [Fact]
    public void Knative_mode_from_the_annotation_with_framework_storage_uri_and_model_name()
    {
        var snapshot = InferenceServiceJson.ToSnapshot(Parse("""
            {"metadata":{"name":"pa","namespace":"ns","generation":1,"resourceVersion":"7",
               "annotations":{"serving.kserve.io/deploymentMode":"Serverless","argohooks.io/model-name":"predictive"}},
             "spec":{"predictor":{"minReplicas":1,"sklearn":{"storageUri":"pvc://claim/pa","resources":{}}}},
             "status":{"components":{"predictor":{"latestCreatedRevision":"pa-predictor-00002","latestReadyRevision":"pa-predictor-00001"}}}}
            """));

        Assert.Equal(InferenceServiceJson.Serverless, snapshot.DeploymentMode);
        Assert.Equal("pvc://claim/pa", snapshot.StorageUri);
        Assert.Equal("predictive", snapshot.ModelName);
        Assert.Equal("pa-predictor-00002", snapshot.LatestCreatedRevision);
        Assert.Equal("pa-predictor-00001", snapshot.LatestReadyRevision);
        Assert.Null(snapshot.RestartedAt);
    }

    [Theory]
    [InlineData("Standard", "RawDeployment")]
    [InlineData("RawDeployment", "RawDeployment")]
    [InlineData("Knative", "Serverless")]
    [InlineData("Serverless", "Serverless")]
    [InlineData("ModelMesh", "ModelMesh")]
    [InlineData(null, "Serverless")]
    public void Deployment_mode_normalisation(string? mode, string expected) =>
        Assert.Equal(expected, InferenceServiceJson.NormaliseDeploymentMode(mode));

    [Fact]
    public void No_storage_uri_is_null()
    {
        var snapshot = InferenceServiceJson.ToSnapshot(Parse("""{"metadata":{"name":"x"},"spec":{"predictor":{"containers":[{"name":"c"}]}}}"""));
        Assert.Null(snapshot.StorageUri);
        Assert.Equal("Serverless", snapshot.DeploymentMode);
    }

    [Fact]
    public void Missing_name_is_a_clear_error() =>
        Assert.Contains("metadata.name", Assert.Throws<InvalidDataException>(() => InferenceServiceJson.ToSnapshot(Parse("""{"metadata":{}}"""))).Message);

    [Fact]
    public void Contract_patch_removes_digest_and_verified_at_when_not_applicable()
    {
        var patch = InferenceServiceJson.ContractAnnotationPatch(new PhaseRecord(Phases.Restarting, 4, "Restarting.", "run-1"), 5);

        Assert.Equal(
            """{"argohooks.io/phase":"Restarting","argohooks.io/generation":"5","argohooks.io/message":"Restarting.","argohooks.io/run":"run-1","argohooks.io/artifact-digest":null,"argohooks.io/verified-at":null}""",
            patch.ToJsonString());
    }

    [Fact]
    public void Contract_patch_formats_verified_at_as_rfc3339_utc()
    {
        var verifiedAt = new DateTimeOffset(2026, 11, 30, 8, 0, 1, TimeSpan.FromHours(2));
        var patch = InferenceServiceJson.ContractAnnotationPatch(new PhaseRecord(Phases.Verified, 2, "ok", "r", "sha256:ab", verifiedAt), 2);

        Assert.Equal("2026-11-30T06:00:01Z", patch[ContractAnnotations.VerifiedAt]!.GetValue<string>());
        Assert.Equal("sha256:ab", patch[ContractAnnotations.ArtifactDigest]!.GetValue<string>());
    }

    [Theory]
    [InlineData("x-predictor-00002", "x-predictor-00001", true)]
    [InlineData("x-predictor-00010", "x-predictor-00009", true)]
    [InlineData("x-predictor-00001", "x-predictor-00001", false)]
    [InlineData("x-predictor-00001", "x-predictor-00002", false)]
    [InlineData(null, "x-predictor-00001", false)]
    public void Revision_order(string? candidate, string before, bool newer) =>
        Assert.Equal(newer, RolloutWatcher.IsNewerRevision(candidate, before));
}
