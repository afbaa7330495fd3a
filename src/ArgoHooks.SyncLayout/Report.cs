using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ArgoHooks.SyncLayout;

/// <summary>The outcome of one check: the layout, the findings and the exit code they mean.</summary>
public sealed record LayoutReport(ManifestLayout Layout, IReadOnlyList<Finding> Findings)
{
    public const int ExitOk = 0;
    public const int ExitErrors = 1;
    public const int ExitUnreadableInput = 2;

    public int Count(Severity severity) => Findings.Count(finding => finding.Severity == severity);

    /// <summary>0 when there is nothing worse than a warning, 1 when the layout has an error such as a deadlock.</summary>
    public int ExitCode => Count(Severity.Error) > 0 ? ExitErrors : ExitOk;

    public static LayoutReport Create(ManifestLayout layout, CheckOptions options) => new(layout, Rules.Check(layout, options));

    public string ToHuman()
    {
        var text = new StringBuilder();
        if (Layout.InferenceServices.Count == 0)
        {
            text.AppendLine("No InferenceService with a pvc:// storageUri in the input.");
        }
        else
        {
            var rows = new List<string[]> { new[] { "INFERENCESERVICE", "STEP", "GATE", "CLAIM", "WRITTEN BY", "VERIFIED BY" } };
            rows.AddRange(Layout.InferenceServices.Select(service => new[]
            {
                service.Resource.Display,
                service.Resource.IsApplied ? service.Step.ToString() : "not applied",
                GateDisplay(service),
                service.Claim,
                List(Layout.WritersOf(service).Select(writer => writer.Resource)),
                service.Continuous ? "continuous mode" : List(Layout.VerifiersOf(service).Select(job => job.Resource)),
            }));
            AppendTable(text, rows);
        }

        text.AppendLine();
        if (Findings.Count > 0)
        {
            var rows = new List<string[]> { new[] { "SEVERITY", "RESOURCE", "FINDING" } };
            rows.AddRange(Findings.Select(finding => new[] { SeverityName(finding.Severity), finding.Resource.Display, finding.Message }));
            AppendTable(text, rows);
            text.AppendLine();
        }

        var verdict = Count(Severity.Error) > 0 ? "FAILED" : "OK";
        text.Append(CultureInfo.InvariantCulture,
            $"{verdict}: {Layout.InferenceServices.Count} InferenceService(s) checked; {Count(Severity.Error)} error(s), {Count(Severity.Warning)} warning(s), {Count(Severity.Info)} info.");
        text.AppendLine();
        return text.ToString();
    }

    public string ToJson()
    {
        var services = new JsonArray();
        foreach (var service in Layout.InferenceServices)
        {
            services.Add(new JsonObject
            {
                ["resource"] = Resource(service.Resource),
                ["storageUri"] = service.StorageUri,
                ["claim"] = service.Claim,
                ["path"] = service.ModelPath,
                ["gate"] = service.Gate.ToString().ToLowerInvariant(),
                ["gateAnnotation"] = service.GateText,
                ["modelMesh"] = service.ModelMesh,
                ["continuous"] = service.Continuous,
                ["writers"] = new JsonArray(Layout.WritersOf(service).Select(writer => (JsonNode)Resource(writer.Resource)).ToArray()),
                ["verifiers"] = new JsonArray(Layout.VerifiersOf(service).Select(job => (JsonNode)Resource(job.Resource)).ToArray()),
            });
        }

        var verifiers = new JsonArray();
        foreach (var job in Layout.VerificationJobs)
        {
            verifiers.Add(new JsonObject
            {
                ["resource"] = Resource(job.Resource),
                ["container"] = job.Container,
                ["targetNamespace"] = job.TargetNamespace,
                ["inferenceServices"] = new JsonArray(job.InferenceServices.Select(name => (JsonNode?)JsonValue.Create(name)).ToArray()),
                ["tokenFile"] = job.TokenFile,
                ["tokenAudiences"] = new JsonArray(job.Tokens.Select(token => (JsonNode?)JsonValue.Create(token.Audience)).ToArray()),
            });
        }

        var findings = new JsonArray();
        foreach (var finding in Findings)
        {
            findings.Add(new JsonObject
            {
                ["severity"] = SeverityName(finding.Severity),
                ["rule"] = finding.Rule,
                ["resource"] = Resource(finding.Resource),
                ["message"] = finding.Message,
            });
        }

        var document = new JsonObject
        {
            ["inferenceServices"] = services,
            ["verificationJobs"] = verifiers,
            ["findings"] = findings,
            ["summary"] = new JsonObject
            {
                ["errors"] = Count(Severity.Error),
                ["warnings"] = Count(Severity.Warning),
                ["infos"] = Count(Severity.Info),
                ["exitCode"] = ExitCode,
            },
        };
        // Relaxed escaping keeps "<stdin>" and quotes in messages readable; the output is never embedded in HTML.
        return document.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + Environment.NewLine;
    }

    internal static string SeverityName(Severity severity) => severity switch
    {
        Severity.Error => "error",
        Severity.Warning => "warning",
        _ => "info",
    };

    private static JsonObject Resource(PlacedResource resource) => new()
    {
        ["kind"] = resource.Kind,
        ["name"] = resource.Name,
        ["namespace"] = resource.Namespace.Length == 0 ? null : resource.Namespace,
        ["source"] = resource.Source,
        ["line"] = resource.Line,
        ["hook"] = resource.Placement.IsHook,
        ["steps"] = new JsonArray(resource.Steps.Select(step => (JsonNode)new JsonObject
        {
            ["phase"] = step.Phase.ToString(),
            ["wave"] = step.Wave,
        }).ToArray()),
    };

    private static string GateDisplay(ModelService service) => service switch
    {
        { ModelMesh: true } => "none (ModelMesh)",
        { Gate: Gate.Unknown } => $"\"{service.GateText}\" (= deferred)",
        { GateText: null } => "deferred (default)",
        _ => service.Gate.ToString().ToLowerInvariant(),
    };

    private static string List(IEnumerable<PlacedResource> resources)
    {
        var items = resources.Select(resource => $"{resource.Display} ({string.Join(", ", resource.Steps)}{(resource.Placement.IsHook ? ", hook" : "")})").ToList();
        return items.Count == 0 ? "-" : string.Join("; ", items);
    }

    /// <summary>Left-aligned columns; the last column is not padded so long sentences stay on one line.</summary>
    private static void AppendTable(StringBuilder text, List<string[]> rows)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(column => rows.Max(row => row[column].Length)).ToArray();
        foreach (var row in rows)
        {
            for (var column = 0; column < row.Length; column++)
            {
                var last = column == row.Length - 1;
                text.Append(last ? row[column] : row[column].PadRight(widths[column] + 2));
            }

            text.AppendLine();
        }
    }
}
