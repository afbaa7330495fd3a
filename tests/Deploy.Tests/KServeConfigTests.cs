using System.Text.Json;
using ArgoHooks.HookService.Healing;

namespace ArgoHooks.Deploy.Tests;

/// <summary>deploy/kserve: the annotations the hook service writes are kept out of the predictor pods, the restart marker is not.</summary>
public sealed class KServeConfigTests
{
    private static IReadOnlyList<string> DisallowedAnnotations()
    {
        var patch = Assert.Single(Kustomize.Parse(File.ReadAllText(RepositoryPaths.Combine("deploy", "kserve", "inferenceservice-config-patch.yaml"))));
        Assert.Equal(("ConfigMap", "inferenceservice-config"), (patch.Kind, patch.Name));
        var json = patch.At("data").Str("inferenceService")!;
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("serviceAnnotationDisallowedList").EnumerateArray().Select(item => item.GetString()!).ToList();
    }

    [Fact]
    public void Every_status_annotation_of_the_contract_is_disallowed_and_kserve_defaults_are_kept()
    {
        var disallowed = DisallowedAnnotations();
        string[] written =
        [
            ContractAnnotations.Phase, ContractAnnotations.Generation, ContractAnnotations.Message,
            ContractAnnotations.ArtifactDigest, ContractAnnotations.VerifiedAt, ContractAnnotations.Run,
        ];
        Assert.All(written, key => Assert.Contains(key, disallowed));
        Assert.Contains("kubectl.kubernetes.io/last-applied-configuration", disallowed);
        Assert.Contains("internal.serving.kserve.io/storage-initializer-sourceuri", disallowed);
        Assert.Equal(disallowed.Count, disallowed.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void The_restart_marker_and_the_user_annotations_still_reach_the_pods()
    {
        var disallowed = DisallowedAnnotations();
        Assert.DoesNotContain(ContractAnnotations.RestartedAt, disallowed);
        Assert.DoesNotContain(ContractAnnotations.Gate, disallowed);
        Assert.DoesNotContain(ContractAnnotations.ModelName, disallowed);
    }
}
