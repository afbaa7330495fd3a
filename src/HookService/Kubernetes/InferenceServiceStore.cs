using System.Net;
using System.Text.Json.Nodes;
using ArgoHooks.HookService.Healing;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Kubernetes;

/// <summary>InferenceServices through the custom objects API; phases as merge patches of the contract annotations only.</summary>
public sealed class InferenceServiceStore(
    IKubernetes client,
    KubernetesEventRecorder events,
    IOptions<KubernetesOptions> options,
    ILogger<InferenceServiceStore> logger) : IInferenceServiceStore
{
    private const int ConflictAttempts = 5;

    public async Task<InferenceServiceSnapshot?> GetAsync(string @namespace, string name, CancellationToken cancellationToken)
    {
        var node = await GetNodeAsync(client, @namespace, name, cancellationToken);
        return node is null ? null : InferenceServiceJson.ToSnapshot(node);
    }

    internal static async Task<JsonObject?> GetNodeAsync(IKubernetes client, string @namespace, string name, CancellationToken cancellationToken)
    {
        try
        {
            var resource = await client.CustomObjects.GetNamespacedCustomObjectAsync(
                InferenceServiceJson.Group, InferenceServiceJson.Version, @namespace, InferenceServiceJson.Plural, name, cancellationToken);
            return InferenceServiceJson.ToNode(resource);
        }
        catch (Exception error) when (error.Is(HttpStatusCode.NotFound))
        {
            return null;
        }
    }

    public async Task<IReadOnlyList<InferenceServiceSnapshot>> ListAsync(string @namespace, CancellationToken cancellationToken)
    {
        var list = InferenceServiceJson.ToNode(await client.CustomObjects.ListNamespacedCustomObjectAsync(
            InferenceServiceJson.Group, InferenceServiceJson.Version, @namespace, InferenceServiceJson.Plural, cancellationToken: cancellationToken));
        var items = list["items"] as JsonArray ?? [];
        return items.OfType<JsonObject>().Select(InferenceServiceJson.ToSnapshot).OrderBy(isvc => isvc.Name, StringComparer.Ordinal).ToList();
    }

    public async Task<InferenceServiceSnapshot> RecordPhaseAsync(InferenceServiceSnapshot current, PhaseRecord record, CancellationToken cancellationToken)
    {
        var patch = new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = InferenceServiceJson.ContractAnnotationPatch(record, record.Generation) } };
        InferenceServiceSnapshot written;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                written = await PatchAsync(current.Namespace, current.Name, patch, cancellationToken);
                break;
            }
            catch (Exception error) when (error.Is(HttpStatusCode.Conflict) && attempt < ConflictAttempts)
            {
                // The patch carries no resourceVersion and only keys we own, so applying it again is what we meant:
                // re-read (to fail fast with 404 if the object went away) and retry.
                logger.LogDebug("Conflict writing phase {Phase} on {Namespace}/{Name}; retrying.", record.Phase, current.Namespace, current.Name);
                if (await GetNodeAsync(client, current.Namespace, current.Name, cancellationToken) is null)
                {
                    throw;
                }
            }
        }

        await events.RecordAsync(written, record.Phase, ActionOf(record.Phase), record.Message, record.Phase == Phases.Failed, cancellationToken);
        return written;
    }

    internal async Task<InferenceServiceSnapshot> PatchAsync(string @namespace, string name, JsonObject mergePatch, CancellationToken cancellationToken)
    {
        var result = await client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch(mergePatch.ToJsonString(), V1Patch.PatchType.MergePatch),
            InferenceServiceJson.Group, InferenceServiceJson.Version, @namespace, InferenceServiceJson.Plural, name,
            fieldManager: options.Value.FieldManager,
            cancellationToken: cancellationToken);
        return InferenceServiceJson.ToSnapshot(InferenceServiceJson.ToNode(result));
    }

    /// <summary>events.k8s.io "action": what ArgoHooks did (or tried) in that phase.</summary>
    internal static string ActionOf(string phase) => phase switch
    {
        Phases.AwaitingArtifact => "AwaitArtifact",
        Phases.Restarting => "RestartPredictor",
        Phases.Verifying or Phases.Verified => "VerifyModel",
        Phases.Failed => "Heal",
        _ => "RecordPhase",
    };
}
