using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Kubernetes;
using k8s.Models;

namespace ArgoHooks.HookService.Tests.Kubernetes;

public class PredictorPodMappingTests
{
    private static V1Pod Pod(string ip = "10.0.0.7", bool ready = true, int? port = 8080, string? restartedAt = "2026-01-01T00:00:00.000Z") => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = "isvc-predictor-abc",
            Uid = "uid-1",
            Annotations = restartedAt is null ? null : new Dictionary<string, string> { [ContractAnnotations.RestartedAt] = restartedAt },
        },
        Spec = new V1PodSpec
        {
            Containers =
            [
                new V1Container { Name = "queue-proxy", Ports = [new V1ContainerPort { ContainerPort = 8012 }] },
                new V1Container { Name = "kserve-container", Ports = port is null ? null : [new V1ContainerPort { ContainerPort = port.Value }] },
            ],
        },
        Status = new V1PodStatus
        {
            PodIP = ip,
            Conditions = [new V1PodCondition { Type = "Ready", Status = ready ? "True" : "False" }],
            ContainerStatuses =
            [
                new V1ContainerStatus
                {
                    Name = "kserve-container",
                    State = new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = new DateTime(2026, 1, 1, 0, 0, 5, DateTimeKind.Utc) } },
                },
            ],
        },
    };

    [Fact]
    public void Maps_endpoint_readiness_start_and_restart_stamp_of_kserve_container()
    {
        var pod = PredictorPods.ToPredictorPod(Pod());

        Assert.Equal(new Uri("http://10.0.0.7:8080/"), pod.Endpoint);
        Assert.True(pod.Ready);
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 5, TimeSpan.Zero), pod.StartedAt);
        Assert.Equal("2026-01-01T00:00:00.000Z", pod.RestartedAt);
        Assert.Equal(("isvc-predictor-abc", "uid-1"), (pod.Name, pod.Uid));
    }

    [Fact]
    public void Default_port_is_8080_and_kubectl_stamp_is_used_when_present()
    {
        var source = Pod(port: null, restartedAt: null);
        source.Metadata.Annotations = new Dictionary<string, string> { [RestartSupport.KubectlRestartedAt] = "2026-02-02T00:00:00Z" };

        var pod = PredictorPods.ToPredictorPod(source);

        Assert.Equal(8080, pod.Endpoint.Port);
        Assert.Equal("2026-02-02T00:00:00Z", pod.RestartedAt);
    }

    [Fact]
    public void A_pod_without_ip_is_not_ready_and_unresolvable()
    {
        var pod = PredictorPods.ToPredictorPod(Pod(ip: ""));

        Assert.False(pod.Ready);
        Assert.EndsWith(".invalid", pod.Endpoint.Host, StringComparison.Ordinal);
    }

    [Fact]
    public void Not_ready_condition_maps_to_not_ready() => Assert.False(PredictorPods.ToPredictorPod(Pod(ready: false)).Ready);

    [Fact]
    public void Knative_selector_pins_the_latest_ready_revision()
    {
        var raw = new InferenceServiceSnapshot("ns", "m", "u", 1, "1", new Dictionary<string, string>(), "RawDeployment", null, "m", null, null, null);
        var knative = raw with { DeploymentMode = "Serverless", LatestReadyRevision = "m-predictor-00002" };

        Assert.Equal("serving.kserve.io/inferenceservice=m,component=predictor", PredictorPods.Selector(raw));
        Assert.Equal("serving.kserve.io/inferenceservice=m,component=predictor,serving.knative.dev/revision=m-predictor-00002", PredictorPods.Selector(knative));
    }
}
