using System.Text.Json;
using System.Text.RegularExpressions;

namespace ArgoHooks.HookService.Runs;

/// <summary>Either a valid request, or the offending fields with what to do about each.</summary>
public sealed record RunRequestParse(RunRequest? Request, Dictionary<string, string[]> Errors);

/// <summary>
/// Reads a POST /v1/runs body strictly: a JSON object with only the known fields, each once, each of the right
/// type and within bounds. Names must be DNS-1123 labels made of ASCII only, so look-alike characters
/// (fullwidth, zero-width, right-to-left marks) never reach the cluster.
/// </summary>
public static partial class RunRequestReader
{
    public const int MaxInferenceServices = 100;
    public const int MaxArtifactTimeoutSeconds = 86_400;
    public const string AllowedFields = "namespace, inferenceServices, runId, artifactTimeoutSeconds";

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Dns1123Label();

    public static bool IsDns1123Label(string? value) => value is { Length: > 0 and <= 63 } && Dns1123Label().IsMatch(value);

    /// <summary>Run ids share the label syntax (a Job's controller uid fits it).</summary>
    public static bool IsRunId(string? value) => IsDns1123Label(value);

    public static RunRequestParse Parse(ReadOnlyMemory<byte> body)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 8, AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException malformed)
        {
            errors["body"] = [$"The body is not valid JSON (line {malformed.LineNumber + 1}, byte {malformed.BytePositionInLine + 1}); send a JSON object such as {{\"namespace\":\"ns\",\"inferenceServices\":[\"name\"]}}."];
            return new RunRequestParse(null, errors);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                errors["body"] = [$"The body is a JSON {Kind(root)}; send a JSON object with the fields {AllowedFields}."];
                return new RunRequestParse(null, errors);
            }

            string? @namespace = null;
            var names = new List<string>();
            string? runId = null;
            int? artifactTimeout = null;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                var field = FieldName(property.Name);
                if (!seen.Add(property.Name))
                {
                    errors[field] = [$"The field {field} appears more than once; send it once."];
                    continue;
                }

                switch (property.Name)
                {
                    case "namespace":
                        @namespace = ReadName(property.Value, field, errors, "a namespace name (DNS-1123 label: lowercase letters, digits and '-', at most 63)", required: true);
                        break;
                    case "inferenceServices":
                        ReadNames(property.Value, names, errors);
                        break;
                    case "runId":
                        runId = ReadName(property.Value, field, errors, "a run id (lowercase letters, digits and '-', at most 63, e.g. the Job's controller uid)", required: false);
                        break;
                    case "artifactTimeoutSeconds":
                        artifactTimeout = ReadTimeout(property.Value, errors);
                        break;
                    default:
                        errors[field] = [$"Unknown field; the allowed fields are {AllowedFields}."];
                        break;
                }
            }

            if (!seen.Contains("namespace"))
            {
                errors["namespace"] = ["The namespace is required; name the namespace of the InferenceServices."];
            }

            return errors.Count > 0
                ? new RunRequestParse(null, errors)
                : new RunRequestParse(new RunRequest(@namespace!, names, runId, artifactTimeout), errors);
        }
    }

    private static string? ReadName(JsonElement value, string field, Dictionary<string, string[]> errors, string what, bool required)
    {
        if (value.ValueKind == JsonValueKind.Null && !required)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            errors[field] = [$"Expected {what} as a JSON string, got a JSON {Kind(value)}."];
            return null;
        }

        var text = TryGetString(value);
        if (!IsDns1123Label(text))
        {
            errors[field] = [$"\"{Printable(text)}\" is not {what}; use only ASCII a-z, 0-9 and '-', starting and ending with a letter or digit."];
            return null;
        }

        return text;
    }

    private static void ReadNames(JsonElement value, List<string> names, Dictionary<string, string[]> errors)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            errors["inferenceServices"] = [$"Expected a JSON array of InferenceService names, got a JSON {Kind(value)}; send [] to heal every InferenceService with a pvc:// storageUri."];
            return;
        }

        var count = value.GetArrayLength();
        if (count > MaxInferenceServices)
        {
            errors["inferenceServices"] = [$"{count} InferenceServices is more than the {MaxInferenceServices} one run accepts; split them into several runs."];
            return;
        }

        var index = 0;
        foreach (var entry in value.EnumerateArray())
        {
            var field = $"inferenceServices[{index++}]";
            var name = ReadName(entry, field, errors, "an InferenceService name (DNS-1123 label: lowercase letters, digits and '-', at most 63)", required: true);
            if (name is null)
            {
                continue;
            }

            if (names.Contains(name, StringComparer.Ordinal))
            {
                errors[field] = [$"{name} is listed twice; list each InferenceService once."];
                continue;
            }

            names.Add(name);
        }
    }

    private static int? ReadTimeout(JsonElement value, Dictionary<string, string[]> errors)
    {
        const string field = "artifactTimeoutSeconds";
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var seconds))
        {
            errors[field] = [$"Expected a whole number of seconds from 1 to {MaxArtifactTimeoutSeconds}, got {(value.ValueKind == JsonValueKind.Number ? "a number that is not whole or too large" : "a JSON " + Kind(value))}."];
            return null;
        }

        if (seconds is < 1 or > MaxArtifactTimeoutSeconds)
        {
            errors[field] = [$"{seconds} is out of range; use a whole number of seconds from 1 to {MaxArtifactTimeoutSeconds} (one day)."];
            return null;
        }

        return (int)seconds;
    }

    private static string? TryGetString(JsonElement value)
    {
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            // An escaped lone surrogate ("\ud800") cannot become a .NET string: treat it as no valid name.
            return null;
        }
    }

    /// <summary>Field names go back to the caller: keep them short and free of control characters.</summary>
    private static string FieldName(string name)
    {
        var cleaned = Printable(name);
        return cleaned.Length == 0 ? "(empty field name)" : cleaned;
    }

    private static string Printable(string? text)
    {
        if (text is null)
        {
            return "";
        }

        var visible = new string(text.Select(c => char.IsControl(c) || char.IsSurrogate(c) || char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format ? '?' : c).ToArray());
        return visible.Length > 80 ? visible[..80] + "…" : visible;
    }

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Null => "null",
        _ => "value",
    };
}
