using System.ComponentModel.DataAnnotations;

namespace ArgoHooks.HookService.Artifacts;

/// <summary>ArgoHooks:Artifacts — where the model PVCs are mounted into the hook service, and how to wait for files.</summary>
public sealed class ArtifactOptions
{
    public const string Section = "ArgoHooks:Artifacts";

    /// <summary>Claim X is mounted (read-only) at &lt;ClaimsRoot&gt;/X.</summary>
    [Required]
    public string ClaimsRoot { get; set; } = "/mnt/pvc";

    /// <summary>Explicit mount folder per claim; overrides ClaimsRoot for that claim.</summary>
    public Dictionary<string, string> Claims { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Size and mtime must stay unchanged this long before the artifact counts as written. Copies and joblib.dump
    /// write without pauses; a writer that can stall longer should write to a temporary name (not *.pkl) and rename,
    /// or this be raised. A file taken too early fails to unpickle, which verification reports as Failed, never as Verified.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan SettleInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the folder is looked at while waiting (filesystem only, never the Kubernetes API).</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);
}
