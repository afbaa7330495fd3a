using System.Text;

namespace ArgoHooks.Health.Cli;

/// <summary>
/// The three ways of installing the health check into Argo CD, all generated from the one
/// health.lua: a kustomize patch of argocd-cm (plus a kustomization that renders it), argo-helm
/// values, and an argocd-operator / OpenShift GitOps ArgoCD custom resource patch.
/// </summary>
public static class InstallArtifacts
{
    /// <summary>The argocd-cm key Argo CD reads the InferenceService health check from.</summary>
    public const string ConfigMapKey = "resource.customizations.health.serving.kserve.io_InferenceService";

    /// <summary>The command that regenerates the artifacts.</summary>
    public const string RegenerateCommand = "dotnet run --project src/HookService -- install-artifacts";

    /// <summary>Default output folder, relative to the repository root.</summary>
    public const string DefaultOutputFolder = "argocd-cm";

    /// <summary>Every generated file (name relative to the output folder → content).</summary>
    public static IReadOnlyDictionary<string, string> Generate(string script)
    {
        ArgumentNullException.ThrowIfNull(script);
        var header = $"""
            # Generated from {HealthScript.InferenceServiceRepositoryPath}; do not edit by hand.
            # Regenerate with: {RegenerateCommand}

            """;
        return new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["argocd-cm-patch.yaml"] = header + $"""
                # Strategic merge patch of Argo CD's argocd-cm ConfigMap; reference it from the kustomization
                # that installs Argo CD (see kustomization.yaml beside it for a standalone rendering).
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: argocd-cm
                  namespace: argocd
                data:
                  {ConfigMapKey}: {BlockScalar(script, 4)}
                """,
            ["argocd-cm-base.yaml"] = header + """
                # A minimal argocd-cm so that `kubectl kustomize argocd-cm` renders the patch on its own.
                # In a real installation the argocd-cm of the Argo CD install manifests takes its place.
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: argocd-cm
                  namespace: argocd
                  labels:
                    app.kubernetes.io/name: argocd-cm
                    app.kubernetes.io/part-of: argocd

                """,
            ["kustomization.yaml"] = header + """
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources:
                - argocd-cm-base.yaml
                patches:
                - path: argocd-cm-patch.yaml

                """,
            ["helm-values.yaml"] = header + $"""
                # Values for the argo-helm argo-cd chart: helm upgrade --install argocd argo/argo-cd -n argocd -f helm-values.yaml
                configs:
                  cm:
                    {ConfigMapKey}: {BlockScalar(script, 6)}
                """,
            ["argocd-cr-patch.yaml"] = header + $"""
                # Merge patch of the argocd-operator / OpenShift GitOps ArgoCD resource (the operator owns argocd-cm and
                # reverts hand edits). It replaces spec.resourceHealthChecks as a whole: merge in other checks you keep.
                #   kubectl patch argocd argocd -n argocd --type merge --patch-file argocd-cr-patch.yaml
                #   (OpenShift GitOps: kubectl patch argocd openshift-gitops -n openshift-gitops --type merge --patch-file ...)
                apiVersion: argoproj.io/v1beta1
                kind: ArgoCD
                metadata:
                  name: argocd
                  namespace: argocd
                spec:
                  resourceHealthChecks:
                  - group: serving.kserve.io
                    kind: InferenceService
                    check: {BlockScalar(script, 6)}
                """,
        };
    }

    /// <summary>Writes every artifact into <paramref name="outputDirectory"/>.</summary>
    public static IReadOnlyList<string> Write(string script, string outputDirectory)
    {
        Directory.CreateDirectory(outputDirectory);
        var written = new List<string>();
        foreach (var (name, content) in Generate(script))
        {
            var path = Path.Combine(outputDirectory, name);
            File.WriteAllText(path, content, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            written.Add(path);
        }
        return written;
    }

    /// <summary>The artifacts in <paramref name="outputDirectory"/> that are missing or differ from what would be generated.</summary>
    public static IReadOnlyList<string> FindStale(string script, string outputDirectory)
    {
        var stale = new List<string>();
        foreach (var (name, content) in Generate(script))
        {
            var path = Path.Combine(outputDirectory, name);
            if (!File.Exists(path) || File.ReadAllText(path) != content)
            {
                stale.Add(path);
            }
        }
        return stale;
    }

    /// <summary>The folder holding ArgoHooks.sln, searched upwards from <paramref name="startDirectory"/>.</summary>
    public static string? FindRepositoryRoot(string startDirectory)
    {
        for (var directory = new DirectoryInfo(startDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ArgoHooks.sln")))
            {
                return directory.FullName;
            }
        }
        return null;
    }

    // A YAML literal block scalar holding the text byte for byte, indented by `indent` spaces (two
    // more than its key): the chomping indicator keeps the exact number of trailing newlines and an
    // explicit indentation indicator protects leading spaces.
    private static string BlockScalar(string text, int indent)
    {
        if (text.Contains('\r'))
        {
            throw new ArgumentException("The script must use LF line endings to be stored as a YAML block scalar.", nameof(text));
        }
        var body = text.TrimEnd('\n');
        var trailingNewlines = text.Length - body.Length;
        var chomping = trailingNewlines switch { 0 => "-", 1 => "", _ => "+" };
        // The indicator counts from the key's own indentation; every caller places the text two deeper.
        var indentation = body.StartsWith(' ') ? "2" : "";
        var pad = new string(' ', indent);
        var builder = new StringBuilder("|").Append(indentation).Append(chomping).Append('\n');
        foreach (var line in text[..^trailingNewlines].Split('\n'))
        {
            builder.Append(line.Length == 0 ? "" : pad + line).Append('\n');
        }
        for (var i = 1; i < trailingNewlines; i++)
        {
            builder.Append('\n');
        }
        return builder.ToString();
    }
}
