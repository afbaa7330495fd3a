namespace ArgoHooks.Demo.Seed;

/// <summary>The seed's wave-2 InferenceServices, as they stand in Git.</summary>
internal static class SeedManifests
{
    public static string InferenceService(string name, SeedOptions options)
    {
        var mode = options.DeploymentMode == "Serverless" ? "Serverless" : "RawDeployment";
        return $$"""
            apiVersion: serving.kserve.io/v1beta1
            kind: InferenceService
            metadata:
              name: {{name}}
              namespace: {{SeedOptions.Namespace}}
              annotations:
                argocd.argoproj.io/sync-wave: "2"
                serving.kserve.io/deploymentMode: {{mode}}
                argohooks.io/gate: {{options.Gate}}
              labels:
                app.kubernetes.io/part-of: self-healing-platform
            spec:
              predictor:
                model:
                  modelFormat:
                    name: sklearn
                  storageUri: pvc://{{SeedOptions.Claim}}/{{name}}
                  resources:
                    requests:
                      cpu: 100m
                      memory: 256Mi
            """;
    }
}
