namespace ArgoHooks.SyncLayout.Tests;

/// <summary>Small rendered-manifest builders for the rule tests; each returns one YAML document (indentation spelled out).</summary>
internal static class Manifests
{
    /// <summary>metadata.annotations lines (indented for metadata) for the pairs whose value is not null.</summary>
    public static string Annotations(params (string Key, string? Value)[] annotations)
    {
        var present = annotations.Where(pair => pair.Value is not null).ToList();
        return present.Count == 0
            ? "  annotations: {}\n"
            : "  annotations:\n" + string.Concat(present.Select(pair => $"    {pair.Key}: \"{pair.Value}\"\n"));
    }

    public static string InferenceService(string name, string? wave = "2", string? gate = "deferred", string storageUri = "pvc://models/NAME", params (string Key, string? Value)[] extra) =>
        "apiVersion: serving.kserve.io/v1beta1\n" +
        "kind: InferenceService\n" +
        "metadata:\n" +
        $"  name: {name}\n" +
        "  namespace: ml\n" +
        Annotations([("argocd.argoproj.io/sync-wave", wave), ("argohooks.io/gate", gate), .. extra]) +
        "spec:\n" +
        "  predictor:\n" +
        "    model:\n" +
        "      modelFormat:\n" +
        "        name: sklearn\n" +
        $"      storageUri: {storageUri.Replace("NAME", name, StringComparison.Ordinal)}\n";

    /// <summary>A workload that mounts <paramref name="claim"/>; kind Job, Deployment, StatefulSet, CronJob or Pod.</summary>
    public static string Writer(
        string name, string? wave = "3", string claim = "models", string kind = "Job", bool readOnlyMount = false, bool readOnlyClaim = false,
        bool inInitContainer = false, params (string Key, string? Value)[] extra)
    {
        var podSpec =
            "volumes:\n" +
            "  - name: data\n" +
            "    persistentVolumeClaim:\n" +
            $"      claimName: {claim}\n" +
            $"      readOnly: {(readOnlyClaim ? "true" : "false")}\n" +
            (inInitContainer ? "containers:\n  - name: main\n    image: busybox\ninitContainers:\n" : "containers:\n") +
            "  - name: train\n" +
            "    image: python:3.12-slim\n" +
            "    command: [\"python\", \"train.py\"]\n" +
            "    volumeMounts:\n" +
            "      - name: data\n" +
            $"        mountPath: /mnt/pvc/{claim}\n" +
            $"        readOnly: {(readOnlyMount ? "true" : "false")}\n";
        var spec = kind switch
        {
            "Pod" => Indent(podSpec, 2),
            "CronJob" => "  schedule: \"@daily\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n" + Indent(podSpec, 10),
            _ => "  template:\n    spec:\n" + Indent(podSpec, 6),
        };
        var apiVersion = kind switch
        {
            "Job" or "CronJob" => "batch/v1",
            "Pod" => "v1",
            _ => "apps/v1",
        };
        return $"apiVersion: {apiVersion}\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: ml\n" +
               Annotations([("argocd.argoproj.io/sync-wave", wave), .. extra]) + "spec:\n" + spec;
    }

    public static string Verifier(
        string name = "argohooks-verify-models",
        string? wave = "5",
        string? audience = "argohooks",
        bool withToken = true,
        string tokenMountPath = "/var/run/secrets/argohooks",
        string args = "[\"call\", \"--namespace\", \"$(POD_NAMESPACE)\"]",
        string image = "ghcr.io/argohooks/argohooks:0.1.0",
        string? command = null,
        string env = "",
        string? tokenSubPath = null,
        params (string Key, string? Value)[] extra)
    {
        var podSpec = "restartPolicy: Never\n";
        if (withToken)
        {
            podSpec +=
                "volumes:\n" +
                "  - name: argohooks-token\n" +
                "    projected:\n" +
                "      sources:\n" +
                "        - serviceAccountToken:\n" +
                (audience is null ? "" : $"            audience: {audience}\n") +
                "            expirationSeconds: 3600\n" +
                "            path: token\n";
        }

        podSpec +=
            "containers:\n" +
            "  - name: call\n" +
            $"    image: {image}\n" +
            (command is null ? "" : $"    command: {command}\n") +
            $"    args: {args}\n" +
            env;
        if (withToken)
        {
            podSpec +=
                "    volumeMounts:\n" +
                "      - name: argohooks-token\n" +
                $"        mountPath: {tokenMountPath}\n" +
                (tokenSubPath is null ? "" : $"        subPath: {tokenSubPath}\n") +
                "        readOnly: true\n";
        }

        return $"apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\n  namespace: ml\n" +
               Annotations([("argocd.argoproj.io/sync-wave", wave), .. extra]) +
               "spec:\n  template:\n    spec:\n" + Indent(podSpec, 6);
    }

    public static string Indent(string text, int spaces) =>
        string.Concat(text.Split('\n').Select(line => line.Length == 0 ? "" : new string(' ', spaces) + line + "\n"));

    public static string Join(params string[] documents) => string.Join("---\n", documents);

    public static ManifestLayout Layout(params string[] documents)
    {
        using var reader = new StringReader(Join(documents));
        return LayoutBuilder.Build(ManifestReader.Read(reader, "test.yaml"));
    }

    public static IReadOnlyList<Finding> Check(params string[] documents) => Rules.Check(Layout(documents), new CheckOptions());
}
