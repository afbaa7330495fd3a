using System.Text.Json.Nodes;
using ArgoHooks.ClusterEmulator.Api;

namespace ArgoHooks.ClusterEmulator.Store;

/// <summary>
/// A parsed label selector (<c>a=b</c>, <c>a==b</c>, <c>a!=b</c>, <c>a in (x,y)</c>, <c>a notin (x)</c>, <c>a</c>, <c>!a</c>),
/// requirements joined by commas as in the API server.
/// </summary>
public sealed class LabelSelector
{
    private enum Op { Equals, NotEquals, In, NotIn, Exists, DoesNotExist }

    private sealed record Requirement(string Key, Op Operator, IReadOnlyList<string> Values);

    private readonly List<Requirement> _requirements;

    private LabelSelector(List<Requirement> requirements) => _requirements = requirements;

    public static LabelSelector Everything { get; } = new([]);

    public bool IsEmpty => _requirements.Count == 0;

    public static LabelSelector Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return Everything;
        var requirements = new List<Requirement>();
        foreach (var raw in SplitTopLevel(text))
        {
            var part = raw.Trim();
            if (part.Length == 0) throw ApiException.BadRequest($"unable to parse requirement: empty requirement in label selector \"{text}\"");
            requirements.Add(ParseRequirement(part, text));
        }
        return new LabelSelector(requirements);
    }

    /// <summary>Builds a selector from <c>matchLabels</c>/<c>matchExpressions</c> (a Deployment's <c>spec.selector</c>).</summary>
    public static LabelSelector FromObject(JsonNode? selector)
    {
        var requirements = new List<Requirement>();
        foreach (var (k, v) in Json.StringMap(Json.Node(selector, "matchLabels")))
            requirements.Add(new Requirement(k, Op.Equals, [v]));
        if (Json.Node(selector, "matchExpressions") is JsonArray expressions)
        {
            foreach (var e in expressions.OfType<JsonObject>())
            {
                var key = Json.Str(e, "key") ?? "";
                var values = (e["values"] as JsonArray)?.Select(v => v?.GetValue<string>() ?? "").ToList() ?? [];
                var op = Json.Str(e, "operator") switch
                {
                    "In" => Op.In,
                    "NotIn" => Op.NotIn,
                    "Exists" => Op.Exists,
                    "DoesNotExist" => Op.DoesNotExist,
                    var other => throw ApiException.BadRequest($"invalid label selector operator \"{other}\""),
                };
                requirements.Add(new Requirement(key, op, values));
            }
        }
        return new LabelSelector(requirements);
    }

    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        foreach (var r in _requirements)
        {
            var has = labels.TryGetValue(r.Key, out var value);
            var ok = r.Operator switch
            {
                Op.Equals => has && value == r.Values[0],
                Op.NotEquals => !has || value != r.Values[0],
                Op.In => has && r.Values.Contains(value!),
                Op.NotIn => !has || !r.Values.Contains(value!),
                Op.Exists => has,
                Op.DoesNotExist => !has,
                _ => false,
            };
            if (!ok) return false;
        }
        return true;
    }

    public bool Matches(JsonObject obj) => Matches(Json.StringMap(Json.Node(obj, "metadata", "labels")));

    private static IEnumerable<string> SplitTopLevel(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '(') depth++;
            else if (text[i] == ')') depth--;
            else if (text[i] == ',' && depth == 0)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }
        yield return text[start..];
    }

    private static Requirement ParseRequirement(string part, string whole)
    {
        if (part.StartsWith('!')) return new Requirement(ValidKey(part[1..].Trim(), whole), Op.DoesNotExist, []);
        var notIn = IndexOfWord(part, "notin");
        if (notIn > 0) return new Requirement(ValidKey(part[..notIn].Trim(), whole), Op.NotIn, ParseSet(part[(notIn + 5)..], whole));
        var inIdx = IndexOfWord(part, "in");
        if (inIdx > 0) return new Requirement(ValidKey(part[..inIdx].Trim(), whole), Op.In, ParseSet(part[(inIdx + 2)..], whole));
        var ne = part.IndexOf("!=", StringComparison.Ordinal);
        if (ne > 0) return new Requirement(ValidKey(part[..ne].Trim(), whole), Op.NotEquals, [part[(ne + 2)..].Trim()]);
        var eqeq = part.IndexOf("==", StringComparison.Ordinal);
        if (eqeq > 0) return new Requirement(ValidKey(part[..eqeq].Trim(), whole), Op.Equals, [part[(eqeq + 2)..].Trim()]);
        var eq = part.IndexOf('=');
        if (eq > 0) return new Requirement(ValidKey(part[..eq].Trim(), whole), Op.Equals, [part[(eq + 1)..].Trim()]);
        return new Requirement(ValidKey(part, whole), Op.Exists, []);
    }

    private static int IndexOfWord(string part, string word)
    {
        var idx = part.IndexOf(" " + word, StringComparison.Ordinal);
        while (idx >= 0)
        {
            var after = idx + 1 + word.Length;
            var rest = part[after..].TrimStart();
            if (rest.StartsWith('(')) return idx + 1;
            idx = part.IndexOf(" " + word, idx + 1, StringComparison.Ordinal);
        }
        return -1;
    }

    private static List<string> ParseSet(string text, string whole)
    {
        var t = text.Trim();
        if (!t.StartsWith('(') || !t.EndsWith(')'))
            throw ApiException.BadRequest($"unable to parse requirement: found '{t}', expected: '(' in label selector \"{whole}\"");
        return t[1..^1].Split(',').Select(v => v.Trim()).ToList();
    }

    private static string ValidKey(string key, string whole)
    {
        if (key.Length == 0 || key.Any(c => char.IsWhiteSpace(c) || c is '(' or ')' or '=' or '!'))
            throw ApiException.BadRequest($"unable to parse requirement: invalid label key \"{key}\" in label selector \"{whole}\"");
        return key;
    }
}

/// <summary>A field selector: comma-separated <c>path=value</c>, <c>path==value</c> or <c>path!=value</c> on dotted paths.</summary>
public sealed class FieldSelector
{
    private readonly List<(string[] Path, bool Equal, string Value)> _terms;

    private FieldSelector(List<(string[] Path, bool Equal, string Value)> terms) => _terms = terms;

    public static FieldSelector Everything { get; } = new([]);

    public static FieldSelector Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return Everything;
        var terms = new List<(string[] Path, bool Equal, string Value)>();
        foreach (var raw in text.Split(','))
        {
            var part = raw.Trim();
            var ne = part.IndexOf("!=", StringComparison.Ordinal);
            var eqeq = part.IndexOf("==", StringComparison.Ordinal);
            var eq = part.IndexOf('=');
            if (ne > 0) terms.Add((part[..ne].Split('.'), false, part[(ne + 2)..]));
            else if (eqeq > 0) terms.Add((part[..eqeq].Split('.'), true, part[(eqeq + 2)..]));
            else if (eq > 0) terms.Add((part[..eq].Split('.'), true, part[(eq + 1)..]));
            else throw ApiException.BadRequest($"invalid selector: '{text}'; can't understand '{part}'");
        }
        return new FieldSelector(terms);
    }

    public bool Matches(JsonObject obj)
    {
        foreach (var (path, equal, value) in _terms)
        {
            var node = Json.Node(obj, path);
            var actual = node switch
            {
                null => "",
                JsonValue v when v.TryGetValue<string>(out var s) => s,
                _ => node.ToJsonString(),
            };
            if ((actual == value) != equal) return false;
        }
        return true;
    }
}
