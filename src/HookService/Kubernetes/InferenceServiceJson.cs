using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ArgoHooks.HookService.Healing;

namespace ArgoHooks.HookService.Kubernetes;

/// <summary>The InferenceService resource as the custom objects API serves it, and its mapping to a snapshot.</summary>
public static class InferenceServiceJson
{
    public const string Group = "serving.kserve.io";
    public const string Version = "v1beta1";
    public const string Plural = "inferenceservices";
    public const string Kind = "InferenceService";
    public const string ApiVersion = Group + "/" + Version;
    public const string DeploymentModeAnnotation = "serving.kserve.io/deploymentMode";

    public const string RawDeployment = "RawDeployment";
    public const string Serverless = "Serverless";
    public const string ModelMesh = "ModelMesh";

    /// <summary>The custom objects API returns a JsonElement (or anything serialisable); navigate it as nodes.</summary>
    public static JsonObject ToNode(object? resource) => resource switch
    {
        JsonObject node => node,
        JsonElement element => JsonNode.Parse(element.GetRawText()) as JsonObject ?? throw new InvalidDataException("The API server returned a JSON value that is not an object."),
        null => throw new InvalidDataException("The API server returned an empty body."),
        _ => JsonSerializer.SerializeToNode(resource) as JsonObject ?? throw new InvalidDataException("The API server returned a JSON value that is not an object."),
    };

    public static string NormaliseDeploymentMode(string? mode) => mode switch
    {
        "Standard" or "RawDeployment" => RawDeployment,
        "Knative" or "Serverless" => Serverless,
        "ModelMesh" => ModelMesh,
        null or "" => Serverless, // KServe's default when neither status nor annotation says otherwise
        _ => mode,
    };

    public static InferenceServiceSnapshot ToSnapshot(JsonObject isvc)
    {
        var metadata = isvc["metadata"] as JsonObject ?? throw new InvalidDataException("The InferenceService has no metadata.");
        var name = String(metadata["name"]) ?? throw new InvalidDataException("The InferenceService has no metadata.name.");
        var annotations = StringMap(metadata["annotations"]);
        var predictor = isvc["spec"]?["predictor"] as JsonObject;
        var status = isvc["status"] as JsonObject;
        var predictorStatus = status?["components"]?["predictor"];
        annotations.TryGetValue(DeploymentModeAnnotation, out var annotatedMode);

        return new InferenceServiceSnapshot(
            Namespace: String(metadata["namespace"]) ?? "",
            Name: name,
            Uid: String(metadata["uid"]) ?? "",
            Generation: Long(metadata["generation"]) ?? 0,
            ResourceVersion: String(metadata["resourceVersion"]) ?? "",
            Annotations: annotations,
            DeploymentMode: NormaliseDeploymentMode(String(status?["deploymentMode"]) is { Length: > 0 } statusMode ? statusMode : annotatedMode),
            StorageUri: StorageUri(predictor),
            ModelName: annotations.TryGetValue(ContractAnnotations.ModelName, out var modelName) && modelName.Length > 0 ? modelName : name,
            RestartedAt: String(predictor?["annotations"]?[ContractAnnotations.RestartedAt]),
            LatestCreatedRevision: String(predictorStatus?["latestCreatedRevision"]),
            LatestReadyRevision: String(predictorStatus?["latestReadyRevision"]));
    }

    /// <summary>spec.predictor.model.storageUri, else the first spec.predictor.&lt;framework&gt;.storageUri.</summary>
    internal static string? StorageUri(JsonObject? predictor)
    {
        if (predictor is null)
        {
            return null;
        }

        if (String(predictor["model"]?["storageUri"]) is { Length: > 0 } modelUri)
        {
            return modelUri;
        }

        foreach (var (_, value) in predictor)
        {
            if (value is JsonObject framework && String(framework["storageUri"]) is { Length: > 0 } frameworkUri)
            {
                return frameworkUri;
            }
        }

        return null;
    }

    /// <summary>The contract annotations of a phase; null removes a key under JSON merge patch.</summary>
    public static JsonObject ContractAnnotationPatch(PhaseRecord record, long generation) => new()
    {
        [ContractAnnotations.Phase] = record.Phase,
        [ContractAnnotations.Generation] = generation.ToString(CultureInfo.InvariantCulture),
        [ContractAnnotations.Message] = record.Message,
        [ContractAnnotations.Run] = record.RunId,
        [ContractAnnotations.ArtifactDigest] = record.ArtifactDigest,
        [ContractAnnotations.VerifiedAt] = record.VerifiedAt?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
    };

    internal static string? String(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    internal static long? Long(JsonNode? node)
    {
        if (node is not JsonValue value)
        {
            return null;
        }

        if (value.TryGetValue<long>(out var number))
        {
            return number;
        }

        if (value.TryGetValue<JsonElement>(out var element) && element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out number))
        {
            return number;
        }

        return value.TryGetValue<double>(out var real) ? (long)real : null;
    }

    internal static Dictionary<string, string> StringMap(JsonNode? node)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node is JsonObject entries)
        {
            foreach (var (key, value) in entries)
            {
                if (String(value) is { } text)
                {
                    map[key] = text;
                }
            }
        }

        return map;
    }
}
