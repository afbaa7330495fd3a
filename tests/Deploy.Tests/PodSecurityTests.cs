using YamlDotNet.RepresentationModel;

namespace ArgoHooks.Deploy.Tests;

/// <summary>Every Pod template of every kustomization meets the restricted Pod Security profile and has resources.</summary>
public sealed class PodSecurityTests
{
    public static TheoryData<string> Kustomizations() => [.. Kustomize.AllKustomizations()];

    internal static IEnumerable<(Manifest Owner, YamlMappingNode PodSpec)> PodTemplates(IEnumerable<Manifest> manifests) =>
        manifests
            .Where(manifest => manifest.Kind is "Deployment" or "Job" or "StatefulSet" or "DaemonSet")
            .Select(manifest => (manifest, manifest.At("spec", "template", "spec") ?? throw new InvalidOperationException($"{manifest} has no pod template")));

    [Fact]
    public void The_kustomization_list_covers_the_documented_entry_points()
    {
        var all = Kustomize.AllKustomizations();
        string[] expected =
        [
            "base", "overlays/strategy-delete-pods", "overlays/strategy-deployment", "overlays/cluster-wide", "grant",
            "job", "job/sync-wave", "job/post-sync", "job/caller-rbac",
            "examples/seed-deferred/app", "examples/seed-deferred/hook-service", "examples/strict/app",
        ];
        Assert.All(expected, folder => Assert.Contains(folder, all));
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Every_kustomization_renders(string folder)
    {
        var manifests = await Kustomize.RenderAsync(folder);
        Assert.NotEmpty(manifests);
        Assert.All(manifests, manifest =>
        {
            Assert.False(string.IsNullOrEmpty(manifest.Kind), $"a document of deploy/{folder} has no kind");
            Assert.False(string.IsNullOrEmpty(manifest.Name), $"{manifest} of deploy/{folder} has no name");
        });
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Every_pod_template_is_restricted_and_bounded(string folder)
    {
        var manifests = await Kustomize.RenderAsync(folder);
        foreach (var (owner, pod) in PodTemplates(manifests))
        {
            var podContext = pod.At("securityContext");
            Assert.True(podContext.Bool("runAsNonRoot"), $"{owner} in deploy/{folder}: pod securityContext.runAsNonRoot must be true");
            Assert.Equal("RuntimeDefault", podContext.At("seccompProfile").Str("type"));
            // No fixed UID: OpenShift's restricted SCC assigns an arbitrary one.
            Assert.False(podContext.Has("runAsUser"), $"{owner}: pod securityContext sets runAsUser");

            var containers = pod.Maps("containers").Concat(pod.Maps("initContainers")).ToList();
            Assert.NotEmpty(containers);
            foreach (var container in containers)
            {
                var where = $"{owner} container {container.Str("name")} in deploy/{folder}";
                var context = container.At("securityContext");
                Assert.True(context.Bool("allowPrivilegeEscalation") == false, $"{where}: allowPrivilegeEscalation must be false");
                Assert.True(context.Bool("readOnlyRootFilesystem"), $"{where}: readOnlyRootFilesystem must be true");
                Assert.True(context.Bool("runAsNonRoot") ?? podContext.Bool("runAsNonRoot"), $"{where}: runAsNonRoot must be true");
                Assert.NotEqual(true, context.Bool("privileged"));
                Assert.False(context.Has("runAsUser"), $"{where}: sets runAsUser");
                Assert.Contains("ALL", context.At("capabilities").Strings("drop"));
                Assert.Empty(context.At("capabilities").Strings("add"));
                Assert.Equal("RuntimeDefault", (context.At("seccompProfile") ?? podContext.At("seccompProfile")).Str("type"));

                var resources = container.At("resources");
                foreach (var kind in new[] { "requests", "limits" })
                {
                    foreach (var resource in new[] { "cpu", "memory" })
                    {
                        Assert.False(string.IsNullOrEmpty(resources.At(kind).Str(resource)), $"{where}: resources.{kind}.{resource} missing");
                    }
                }

                // A read-only root needs a writable /tmp for .NET (and pip in the example writers).
                Assert.Contains(container.Maps("volumeMounts"), mount => mount.Str("mountPath") == "/tmp");
            }
        }
    }
}
