using System.Diagnostics;
using k8s;
using static ClusterEmulator.Tests.TestSupport;

namespace ClusterEmulator.Tests;

public class KubectlTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string? KubectlPath() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, "kubectl")).FirstOrDefault(File.Exists);

    private static async Task<(int Code, string Out, string Err)> RunAsync(string kubectl, string kubeconfig, params string[] args)
    {
        var psi = new ProcessStartInfo(kubectl) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("--kubeconfig");
        psi.ArgumentList.Add(kubeconfig);
        psi.ArgumentList.Add("--request-timeout=20s");
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["HOME"] = Path.GetDirectoryName(kubeconfig)!; // keep kubectl's discovery cache out of the real home
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Kubectl_lists_pods_and_inference_services_through_the_written_kubeconfig()
    {
        var kubectl = KubectlPath();
        if (kubectl is null) Assert.Skip("kubectl is not installed");
        await using var cluster = await StartAsync();
        using var client = Client(cluster);
        await client.CustomObjects.CreateNamespacedCustomObjectAsync(InferenceService("iris"), Group, V1beta1, "ml", Plural, cancellationToken: Ct);
        await EventuallyAsync(() => GetIsvcAsync(client, "ml", "iris"), i => i.Condition("Ready") == "True", "ready");
        var home = Directory.CreateTempSubdirectory("emulator-kubectl-");
        try
        {
            var kubeconfig = cluster.WriteKubeconfig(Path.Combine(home.FullName, "config"));
            var (code, output, error) = await RunAsync(kubectl, kubeconfig, "get", "pods,inferenceservices", "-A");
            Assert.True(code == 0, $"kubectl failed ({code}): {error}");
            Assert.Contains("iris-predictor-", output);
            Assert.Contains("inferenceservice.serving.kserve.io/iris", output);
            // Server-side printing: the pod's READY/STATUS columns and KServe's printer columns.
            Assert.Matches(@"pod/iris-predictor-\S+\s+1/1\s+Running\s+0", output);
            Assert.Matches(@"inferenceservice\.serving\.kserve\.io/iris\s+http://iris-ml\.example\.com\s+True", output);

            (code, output, error) = await RunAsync(kubectl, kubeconfig, "get", "isvc", "iris", "-n", "ml", "-o", "jsonpath={.status.modelStatus.states.activeModelState}");
            Assert.True(code == 0, $"kubectl failed ({code}): {error}");
            Assert.Equal("Loaded", output);

            var podName = cluster.ModelServers.Single().PodName;
            (code, output, error) = await RunAsync(kubectl, kubeconfig, "logs", podName, "-n", "ml");
            Assert.True(code == 0, $"kubectl logs failed ({code}): {error}");
            Assert.Contains("failed to locate model file", output);

            var manifest = Path.Combine(home.FullName, "isvc.yaml");
            await File.WriteAllTextAsync(manifest, "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata:\n  name: wine\n  namespace: ml\nspec:\n  predictor:\n    model:\n      modelFormat: {name: sklearn}\n      storageUri: pvc://model-storage-pvc/wine\n", Ct);
            (code, output, error) = await RunAsync(kubectl, kubeconfig, "apply", "--validate=false", "-f", manifest);
            Assert.True(code == 0, $"kubectl apply failed ({code}): {error}");
            Assert.Contains("created", output);
            Assert.NotNull(cluster.Get("serving.kserve.io/v1beta1", "InferenceService", "ml", "wine"));

            (code, _, error) = await RunAsync(kubectl, kubeconfig, "rollout", "restart", "deployment/iris-predictor", "-n", "ml");
            Assert.True(code == 0, $"kubectl rollout restart failed ({code}): {error}");
            var deployment = cluster.Get("apps/v1", "Deployment", "ml", "iris-predictor")!;
            Assert.NotNull(deployment["spec"]!["template"]!["metadata"]!["annotations"]!["kubectl.kubernetes.io/restartedAt"]);
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }
}
