using System.Text.Json.Nodes;

namespace ArgoHooks.Health.Tests;

/// <summary>
/// Property-style tests: the testdata objects, damaged at random (fields removed, nulls, wrong
/// types), never make the InferenceService script fail or return an invalid status in either
/// engine, and both engines agree on every mutant.
/// </summary>
public sealed class MutationTests
{
    private const int Seed = 20261130;
    private const int MutantsPerCase = 8;

    private static readonly string[] ProducedStatuses = ["Healthy", "Progressing", "Degraded", "Suspended"];

    private static readonly Func<Random, JsonNode?>[] Replacements =
    [
        _ => null,
        _ => JsonValue.Create("x"),
        _ => JsonValue.Create(""),
        _ => JsonValue.Create("True"),
        random => JsonValue.Create(random.Next(-5, 10)),
        _ => JsonValue.Create(2.5),
        _ => JsonValue.Create(true),
        _ => JsonValue.Create(false),
        _ => new JsonObject(),
        _ => new JsonArray(),
        _ => new JsonArray(JsonValue.Create("a"), null, JsonValue.Create(3)),
        _ => new JsonObject { ["type"] = "Ready", ["status"] = "False" },
        _ => new JsonArray(new JsonObject { ["type"] = 5, ["status"] = new JsonArray() }),
    ];

    /// <summary>The damaged objects, reproducible from the fixed seed.</summary>
    private static IReadOnlyList<JsonNode?> Mutants()
    {
        var random = new Random(Seed);
        var mutants = new List<JsonNode?>
        {
            // Whole-object oddities first.
            null, JsonValue.Create("obj"), JsonValue.Create(42), new JsonArray(), new JsonObject(),
            JsonNode.Parse("""{"status":"Ready"}"""), JsonNode.Parse("""{"status":[]}"""),
            JsonNode.Parse("""{"metadata":"x","status":{"conditions":"x","modelStatus":7}}"""),
            JsonNode.Parse("""{"metadata":{"generation":"3","annotations":{"argohooks.io/phase":"Verified","argohooks.io/generation":3}},"status":{"conditions":[{"type":"Ready","status":"True"}]}}"""),
            JsonNode.Parse("""{"status":{"conditions":[null,1,"x",{"type":"Ready"},{"type":"Ready","status":"True"}]}}"""),
        };
        foreach (var health in HealthCase.All.Where(c => c.ScriptPath == Repository.InferenceServiceScriptPath))
        {
            var original = health.LoadObject();
            for (var i = 0; i < MutantsPerCase; i++)
            {
                var mutant = original!.DeepClone();
                var damage = 1 + random.Next(3);
                for (var d = 0; d < damage; d++)
                {
                    Mutate(mutant, random);
                }
                mutants.Add(mutant);
            }
        }
        return mutants;
    }

    // Replaces or removes one node chosen among every node of the tree (the root excluded),
    // biased towards status and annotations where the script looks.
    private static void Mutate(JsonNode root, Random random)
    {
        var candidates = Descendants(root).ToList();
        var focused = candidates.Where(n => n.GetPath().StartsWith("$.status", StringComparison.Ordinal)
                                            || n.GetPath().Contains("annotations", StringComparison.Ordinal)
                                            || n.GetPath() == "$.metadata.generation").ToList();
        var pool = focused.Count > 0 && random.Next(4) > 0 ? focused : candidates;
        if (pool.Count == 0)
        {
            return;
        }
        var target = pool[random.Next(pool.Count)];
        var replacement = random.Next(5) == 0 ? Remove : Replacements[random.Next(Replacements.Length)](random);
        switch (target.Parent)
        {
            case JsonObject parent:
                var name = target.GetPropertyName();
                if (ReferenceEquals(replacement, Remove))
                {
                    parent.Remove(name);
                }
                else
                {
                    parent[name] = replacement;
                }
                break;
            case JsonArray array:
                var index = target.GetElementIndex();
                if (ReferenceEquals(replacement, Remove))
                {
                    array.RemoveAt(index);
                }
                else
                {
                    array[index] = replacement;
                }
                break;
        }
    }

    private static readonly JsonNode Remove = new JsonObject();

    private static IEnumerable<JsonNode> Descendants(JsonNode node)
    {
        IEnumerable<JsonNode?> children = node switch
        {
            JsonObject map => map.Select(p => p.Value),
            JsonArray list => list,
            _ => [],
        };
        foreach (var child in children.OfType<JsonNode>())
        {
            yield return child;
            foreach (var descendant in Descendants(child))
            {
                yield return descendant;
            }
        }
    }

    [Fact]
    public void Damaged_objects_never_break_the_script_and_both_engines_agree()
    {
        var mutants = Mutants();
        Assert.True(mutants.Count >= 300, $"only {mutants.Count} mutants");
        var evaluator = new LuaHealthEvaluator();
        var script = HealthScript.InferenceService;

        var nlua = mutants.Select(m => evaluator.Evaluate(script, m)).ToList();
        var gopher = GopherLua.Evaluate(Repository.InferenceServiceScriptPath, mutants);

        for (var i = 0; i < mutants.Count; i++)
        {
            var shown = mutants[i]?.ToJsonString() ?? "null";
            Assert.True(ProducedStatuses.Contains(nlua[i].Status) && nlua[i].Message.Length > 0, $"NLua gave {nlua[i]} for mutant {i}: {shown}");
            Assert.True(gopher[i] == nlua[i], $"engines disagree on mutant {i}: NLua {nlua[i]}, gopher-lua {gopher[i]}: {shown}");
        }
    }

    [Fact]
    public void Mutations_reach_every_verdict()
    {
        // Guards the generator itself: damage that only ever produced one verdict would prove little.
        var evaluator = new LuaHealthEvaluator();
        var statuses = Mutants().Select(m => evaluator.Evaluate(HealthScript.InferenceService, m).Status).ToHashSet();
        Assert.Superset(ProducedStatuses.ToHashSet(), statuses);
    }
}
