using k8s;
using k8s.Models;

namespace ArgoHooks.Deploy.Tests;

/// <summary>
/// Every rendered object deserializes strictly into the KubernetesClient's typed models, so a misspelled or
/// misplaced field (e.g. readOnlyRootFileSystem, a probe under the pod) fails here instead of at apply time.
/// </summary>
public sealed class SchemaTests
{
    /// <summary>Custom resources of the examples: only their envelope is typed.</summary>
    public sealed class CustomResource : IKubernetesObject<V1ObjectMeta>
    {
        public string ApiVersion { get; set; } = "";
        public string Kind { get; set; } = "";
        public V1ObjectMeta Metadata { get; set; } = new();
        public object? Spec { get; set; }
    }

    private static readonly Dictionary<string, Type> CustomTypes = new()
    {
        ["serving.kserve.io/v1beta1/InferenceService"] = typeof(CustomResource),
        ["argoproj.io/v1alpha1/Application"] = typeof(CustomResource),
    };

    public static TheoryData<string> Kustomizations() => [.. Kustomize.AllKustomizations()];

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Every_object_matches_the_kubernetes_api_types(string folder)
    {
        var yaml = await Kustomize.RenderTextAsync(folder, TestContext.Current.CancellationToken);
        var objects = KubernetesYaml.LoadAllFromString(yaml, CustomTypes, strict: true);
        Assert.Equal((await Kustomize.RenderAsync(folder)).Count, objects.Count);
        Assert.DoesNotContain(objects, item => item is null);
    }

    [Theory]
    [InlineData("deploy/examples/seed-deferred/applications.yaml")]
    [InlineData("deploy/examples/strict/applications.yaml")]
    public void The_applications_parse_strictly(string file)
    {
        var objects = KubernetesYaml.LoadAllFromString(File.ReadAllText(RepositoryPaths.Combine(file)), CustomTypes, strict: true);
        Assert.Equal(2, objects.Count);
    }

    [Fact]
    public void A_misspelled_field_is_caught()
    {
        const string yaml = """
            apiVersion: v1
            kind: Pod
            metadata: {name: p}
            spec:
              containers:
                - name: c
                  image: i
                  securityContext: {readOnlyRootFileSystem: true}
            """;
        Assert.ThrowsAny<Exception>(() => KubernetesYaml.LoadAllFromString(yaml, CustomTypes, strict: true));
    }
}
