using YamlDotNet.RepresentationModel;

namespace ArgoHooks.SyncLayout;

/// <summary>Turns parsed manifests into a <see cref="ManifestLayout"/>: placements, model services, workloads, verification Jobs.</summary>
public static class LayoutBuilder
{
    public const string GateAnnotation = "argohooks.io/gate";
    public const string VerifyAnnotation = "argohooks.io/verify";
    public const string DeploymentModeAnnotation = "serving.kserve.io/deploymentMode";
    public const string DefaultTokenFile = "/var/run/secrets/argohooks/token";
    public const string TokenFileVariable = "ARGOHOOKS_TOKEN_FILE";
    public const string ClaimsRootVariable = "ArgoHooks__Artifacts__ClaimsRoot";
    public const string ClaimFolderVariablePrefix = "ArgoHooks__Artifacts__Claims__";
    public const string DefaultClaimsRoot = "/mnt/pvc";

    private const string PvcScheme = "pvc://";
    private static readonly string[] ShellSeparators = [";", "&&", "||", "|", "&"];

    public static ManifestLayout Build(IEnumerable<ManifestObject> objects)
    {
        var resources = new List<PlacedResource>();
        var services = new List<ModelService>();
        var workloads = new List<PodWorkload>();
        var verifiers = new List<VerificationJob>();
        var hookServices = new List<HookServiceWorkload>();
        foreach (var manifest in objects)
        {
            var node = manifest.Node;
            var metadata = Yaml.Map(node, "metadata");
            var annotations = Yaml.StringMap(metadata, "annotations");
            var resource = new PlacedResource(
                Yaml.Text(node, "apiVersion") ?? "",
                Yaml.Text(node, "kind") ?? "",
                Yaml.Text(metadata, "name") ?? Yaml.Text(metadata, "generateName") ?? "",
                Yaml.Text(metadata, "namespace") ?? "",
                manifest.Source,
                manifest.Line,
                annotations,
                ArgoCdOrdering.Place(annotations));
            resources.Add(resource);

            if (ModelServiceOf(resource, node) is { } service)
            {
                services.Add(service);
            }

            if (PodSpecOf(resource, node) is { } podSpec)
            {
                var mounts = ClaimMounts(podSpec);
                workloads.Add(new PodWorkload(resource, mounts));
                if (resource.Kind == "Job" && VerificationJobOf(resource, podSpec) is { } verifier)
                {
                    verifiers.Add(verifier);
                }
                else if (resource.Kind != "Job" && HookServiceOf(resource, podSpec, mounts) is { } hookService)
                {
                    hookServices.Add(hookService);
                }
            }
        }

        return new ManifestLayout(resources, services, workloads, verifiers, hookServices);
    }

    private static ModelService? ModelServiceOf(PlacedResource resource, YamlMappingNode node)
    {
        if (resource.Kind != "InferenceService" || !resource.ApiVersion.StartsWith("serving.kserve.io/", StringComparison.Ordinal))
        {
            return null;
        }

        var storageUri = StorageUri(Yaml.Map(Yaml.Map(node, "spec"), "predictor"));
        if (storageUri is null || !storageUri.StartsWith(PvcScheme, StringComparison.Ordinal))
        {
            return null; // s3://, gs://, hf://... models are not written by this sync's pods; nothing to check.
        }

        var rest = storageUri[PvcScheme.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var gateText = resource.Annotations.GetValueOrDefault(GateAnnotation);
        var gate = gateText switch
        {
            null or "" or "deferred" => Gate.Deferred,
            "strict" => Gate.Strict,
            _ => Gate.Unknown,
        };
        return new ModelService(
            resource,
            storageUri,
            slash < 0 ? rest : rest[..slash],
            slash < 0 ? "" : rest[(slash + 1)..],
            gate,
            string.IsNullOrEmpty(gateText) ? null : gateText,
            resource.Annotations.GetValueOrDefault(DeploymentModeAnnotation) == "ModelMesh",
            resource.Annotations.GetValueOrDefault(VerifyAnnotation) == "continuous");
    }

    /// <summary>spec.predictor.model.storageUri, else the first spec.predictor.&lt;framework&gt;.storageUri (as the hook service reads it).</summary>
    private static string? StorageUri(YamlMappingNode? predictor)
    {
        if (Yaml.Text(Yaml.Map(predictor, "model"), "storageUri") is { Length: > 0 } modelUri)
        {
            return modelUri;
        }

        return predictor?.Children.Values.OfType<YamlMappingNode>()
            .Select(framework => Yaml.Text(framework, "storageUri"))
            .FirstOrDefault(uri => !string.IsNullOrEmpty(uri));
    }

    /// <summary>The pod spec of a Pod, or of any kind with spec.template.spec (Job, Deployment, StatefulSet...); CronJobs excluded.</summary>
    private static YamlMappingNode? PodSpecOf(PlacedResource resource, YamlMappingNode node)
    {
        var spec = Yaml.Map(node, "spec");
        return resource.Kind switch
        {
            "Pod" when resource.ApiVersion == "v1" => spec,
            "CronJob" or "InferenceService" => null,
            _ => Yaml.Map(Yaml.Map(spec, "template"), "spec") is { } podSpec && Yaml.Child(podSpec, "containers") is YamlSequenceNode ? podSpec : null,
        };
    }

    private static IEnumerable<YamlMappingNode> Containers(YamlMappingNode podSpec) =>
        Yaml.Items(podSpec, "initContainers").Concat(Yaml.Items(podSpec, "containers")).OfType<YamlMappingNode>();

    /// <summary>Every container mount of a PVC volume; writable unless the claim source or the mount says readOnly: true.</summary>
    private static List<ClaimMount> ClaimMounts(YamlMappingNode podSpec)
    {
        var claims = new Dictionary<string, (string Claim, bool ReadOnly)>(StringComparer.Ordinal);
        foreach (var volume in Yaml.Items(podSpec, "volumes").OfType<YamlMappingNode>())
        {
            if (Yaml.Text(volume, "name") is { } name && Yaml.Map(volume, "persistentVolumeClaim") is { } source
                && Yaml.Text(source, "claimName") is { } claim)
            {
                claims[name] = (claim, Yaml.IsTrue(source, "readOnly"));
            }
        }

        var mounts = new List<ClaimMount>();
        foreach (var container in Containers(podSpec))
        {
            foreach (var mount in Yaml.Items(container, "volumeMounts").OfType<YamlMappingNode>())
            {
                if (Yaml.Text(mount, "name") is { } volume && claims.TryGetValue(volume, out var claim))
                {
                    mounts.Add(new ClaimMount(claim.Claim, Yaml.Text(container, "name") ?? "", Yaml.Text(mount, "mountPath") ?? "",
                        !claim.ReadOnly && !Yaml.IsTrue(mount, "readOnly")));
                }
            }
        }

        return mounts;
    }

    private static VerificationJob? VerificationJobOf(PlacedResource resource, YamlMappingNode podSpec)
    {
        foreach (var container in Containers(podSpec))
        {
            if (CallArguments(container) is not { } callArguments)
            {
                continue;
            }

            var targetNamespace = OptionValues(callArguments, "--namespace", "-n").LastOrDefault();
            if (targetNamespace is null || targetNamespace.Contains("$(", StringComparison.Ordinal))
            {
                targetNamespace = resource.Namespace; // $(POD_NAMESPACE): the Job's own namespace
            }

            var (tokenFile, origin) = TokenFile(container, callArguments);
            return new VerificationJob(
                resource,
                Yaml.Text(container, "name") ?? "",
                targetNamespace,
                OptionValues(callArguments, "--inference-service", "-i").ToList(),
                tokenFile,
                origin,
                ProjectedTokens(podSpec, container));
        }

        return null;
    }

    /// <summary>A long-running workload whose container runs `argohooks serve` (or the argohooks image's default, which is serve).</summary>
    private static HookServiceWorkload? HookServiceOf(PlacedResource resource, YamlMappingNode podSpec, List<ClaimMount> mounts)
    {
        foreach (var container in Containers(podSpec))
        {
            var command = Yaml.Strings(container, "command");
            var args = Yaml.Strings(container, "args");
            var serves = command.Count == 0
                ? IsArgoHooksImage(Yaml.Text(container, "image")) && (args.Count == 0 || args[0] == "serve")
                : command.Concat(args).Zip(command.Concat(args).Skip(1)).Any(pair => IsArgoHooksExecutable(pair.First) && pair.Second == "serve");
            if (!serves)
            {
                continue;
            }

            var name = Yaml.Text(container, "name") ?? "";
            var env = Yaml.Items(container, "env").OfType<YamlMappingNode>()
                .Select(variable => (Name: Yaml.Text(variable, "name"), Value: Yaml.Text(variable, "value"), IsReference: Yaml.Child(variable, "valueFrom") is not null))
                .Where(variable => variable.Name is not null)
                .ToList();
            string? claimsRoot = DefaultClaimsRoot;
            if (env.LastOrDefault(variable => variable.Name == ClaimsRootVariable) is { Name: not null } root)
            {
                claimsRoot = root.IsReference || root.Value is null || root.Value.Contains("$(", StringComparison.Ordinal) ? null : root.Value;
            }

            var folders = env
                .Where(variable => variable.Name!.StartsWith(ClaimFolderVariablePrefix, StringComparison.Ordinal) && !variable.IsReference && variable.Value is not null)
                .GroupBy(variable => variable.Name![ClaimFolderVariablePrefix.Length..], StringComparer.Ordinal)
                .ToDictionary(group => group.Key, group => group.Last().Value!, StringComparer.Ordinal);
            return new HookServiceWorkload(resource, name, claimsRoot, folders, mounts.Where(mount => mount.Container == name).ToList());
        }

        return null;
    }

    /// <summary>
    /// The words after `call` when the container runs `argohooks call`: either its command/args contain an argohooks
    /// executable followed by `call` (also inside a `sh -c` script), or its image is an argohooks image and its first
    /// argument is `call` (the image's entrypoint is argohooks). Null when the container runs something else.
    /// </summary>
    internal static IReadOnlyList<string>? CallArguments(YamlMappingNode container)
    {
        var command = Yaml.Strings(container, "command");
        var args = Yaml.Strings(container, "args");
        var words = command.Concat(args).SelectMany(item => item.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToList();
        for (var index = 0; index + 1 < words.Count; index++)
        {
            if (IsArgoHooksExecutable(words[index]) && words[index + 1] == "call")
            {
                return UntilShellSeparator(words.Skip(index + 2));
            }
        }

        if (command.Count == 0 && IsArgoHooksImage(Yaml.Text(container, "image")) && words.Count > 0 && words[0] == "call")
        {
            return UntilShellSeparator(words.Skip(1));
        }

        return null;
    }

    private static bool IsArgoHooksExecutable(string word)
    {
        var name = word.Trim('"', '\'');
        name = name[(name.LastIndexOf('/') + 1)..];
        return name is "argohooks" or "argohooks.dll" or "argohooks.exe";
    }

    /// <summary>The image's repository (no registry host, tag or digest) names argohooks.</summary>
    internal static bool IsArgoHooksImage(string? image)
    {
        if (string.IsNullOrEmpty(image))
        {
            return false;
        }

        var withoutDigest = image.Split('@')[0];
        var lastSlash = withoutDigest.LastIndexOf('/');
        var colon = withoutDigest.LastIndexOf(':');
        var repository = colon > lastSlash ? withoutDigest[..colon] : withoutDigest;
        return repository[(lastSlash + 1)..].Contains("argohooks", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The words of the `call` command line in a shell script: up to `;`, `&&`, `|`... (also `a;` glued to a word).</summary>
    private static List<string> UntilShellSeparator(IEnumerable<string> words)
    {
        var result = new List<string>();
        foreach (var word in words)
        {
            if (ShellSeparators.Contains(word))
            {
                break;
            }

            if (word.EndsWith(';'))
            {
                result.Add(word.TrimEnd(';'));
                break;
            }

            result.Add(word);
        }

        return result;
    }

    /// <summary>Values of an option given as `--name value` or `--name=value`, in order.</summary>
    internal static IEnumerable<string> OptionValues(IReadOnlyList<string> words, string name, string alias)
    {
        for (var index = 0; index < words.Count; index++)
        {
            var word = words[index];
            if ((word == name || word == alias) && index + 1 < words.Count)
            {
                yield return words[++index].Trim('"', '\'');
            }
            else if (word.StartsWith(name + "=", StringComparison.Ordinal))
            {
                yield return word[(name.Length + 1)..].Trim('"', '\'');
            }
        }
    }

    /// <summary>Where `argohooks call` reads its token: --token-file, else env ARGOHOOKS_TOKEN_FILE, else the default.</summary>
    private static (string? Path, string Origin) TokenFile(YamlMappingNode container, IReadOnlyList<string> callArguments)
    {
        if (OptionValues(callArguments, "--token-file", "--token-file").LastOrDefault() is { } argument)
        {
            return argument.Contains("$(", StringComparison.Ordinal) ? (null, "--token-file") : (argument, "--token-file");
        }

        var variable = Yaml.Items(container, "env").OfType<YamlMappingNode>()
            .LastOrDefault(env => Yaml.Text(env, "name") == TokenFileVariable);
        if (variable is null)
        {
            return (DefaultTokenFile, "the default");
        }

        return Yaml.Text(variable, "value") is { } value && !value.Contains("$(", StringComparison.Ordinal)
            ? (value, TokenFileVariable)
            : (null, TokenFileVariable);
    }

    private static List<ProjectedToken> ProjectedTokens(YamlMappingNode podSpec, YamlMappingNode container)
    {
        var tokens = new List<ProjectedToken>();
        var mounts = Yaml.Items(container, "volumeMounts").OfType<YamlMappingNode>().ToList();
        foreach (var volume in Yaml.Items(podSpec, "volumes").OfType<YamlMappingNode>())
        {
            var volumeName = Yaml.Text(volume, "name") ?? "";
            foreach (var source in Yaml.Items(Yaml.Map(volume, "projected"), "sources"))
            {
                if (Yaml.Map(source, "serviceAccountToken") is not { } token)
                {
                    continue;
                }

                var path = Yaml.Text(token, "path") ?? "";
                var files = new List<string>();
                foreach (var mount in mounts.Where(mount => Yaml.Text(mount, "name") == volumeName))
                {
                    var mountPath = Yaml.Text(mount, "mountPath") ?? "";
                    var subPath = Yaml.Text(mount, "subPath");
                    if (string.IsNullOrEmpty(subPath))
                    {
                        files.Add(mountPath.TrimEnd('/') + "/" + path);
                    }
                    else if (subPath.Trim('/') == path.Trim('/'))
                    {
                        files.Add(mountPath); // the file itself mounted via subPath (such a mount does not rotate)
                    }
                }

                tokens.Add(new ProjectedToken(volumeName, Yaml.Text(token, "audience"), path, files));
            }
        }

        return tokens;
    }
}
