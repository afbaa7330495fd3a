using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ArgoHooks.Health.Cli;

/// <summary>
/// The health-check commands of the argohooks executable: <c>health FILE...</c> evaluates the
/// script on object files like <c>argocd admin settings resource-overrides health</c>, and
/// <c>install-artifacts</c> generates (or checks) the argocd-cm install files.
/// </summary>
public static class HealthCommands
{
    /// <summary>Exit code for unreadable input or bad usage.</summary>
    public const int UsageError = 2;

    /// <summary>The commands, ready to be added to a root command.</summary>
    public static IEnumerable<Command> Create() => [CreateHealthCommand(), CreateInstallArtifactsCommand()];

    private static Command CreateHealthCommand()
    {
        var files = new Argument<string[]>("FILE")
        {
            Description = "YAML or JSON files holding InferenceService objects (multi-document YAML allowed).",
            Arity = ArgumentArity.OneOrMore,
        };
        var scriptOption = new Option<string?>("--script")
        {
            Description = "Health script to run instead of the embedded InferenceService health.lua.",
        };
        var command = new Command("health", "Evaluate the Argo CD health script on object files and print '<file>: <Status> <message>' per object.")
        {
            files,
            scriptOption,
        };
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            return RunHealth(parseResult.GetValue(files) ?? [], parseResult.GetValue(scriptOption), output, error);
        });
        return command;
    }

    private static Command CreateInstallArtifactsCommand()
    {
        var outputOption = new Option<string?>("--output")
        {
            Description = $"Folder to write to (default: <repository root>/{InstallArtifacts.DefaultOutputFolder}).",
        };
        var checkOption = new Option<bool>("--check")
        {
            Description = "Do not write; exit 1 and list the files that are missing or differ from what would be generated.",
        };
        var command = new Command("install-artifacts", "Generate the argocd-cm patch, argo-helm values and ArgoCD CR patch from health.lua.")
        {
            outputOption,
            checkOption,
        };
        command.SetAction(parseResult => RunInstallArtifacts(
            parseResult.GetValue(outputOption),
            parseResult.GetValue(checkOption),
            Directory.GetCurrentDirectory(),
            parseResult.InvocationConfiguration.Output,
            parseResult.InvocationConfiguration.Error));
        return command;
    }

    /// <summary>Evaluates every object of every file; 0 when all were evaluated, 2 when an input cannot be read.</summary>
    public static int RunHealth(IReadOnlyList<string> files, string? scriptPath, TextWriter output, TextWriter error)
    {
        HealthScript script;
        try
        {
            script = scriptPath is null ? HealthScript.InferenceService : HealthScript.FromFile(scriptPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"--script: cannot read {scriptPath}: {e.Message}");
            return UsageError;
        }

        var evaluator = new LuaHealthEvaluator();
        foreach (var file in files)
        {
            IReadOnlyList<JsonNode?> objects;
            try
            {
                objects = YamlObjects.Parse(File.ReadAllText(file));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or JsonException)
            {
                error.WriteLine($"FILE {file}: cannot read objects: {e.Message}");
                return UsageError;
            }
            if (objects.Count == 0)
            {
                error.WriteLine($"FILE {file}: contains no object.");
                return UsageError;
            }
            foreach (var obj in objects.SelectMany(ExpandList))
            {
                var result = evaluator.Evaluate(script, obj);
                output.WriteLine($"{file}: {result.Status} {result.Message}");
            }
        }
        return 0;
    }

    // `kubectl get ... -o yaml` wraps several objects in a `kind: List`; evaluate its items.
    private static IEnumerable<JsonNode?> ExpandList(JsonNode? obj) =>
        obj is JsonObject map
        && map["kind"] is JsonValue kind && kind.TryGetValue(out string? kindName) && kindName.EndsWith("List", StringComparison.Ordinal)
        && map["items"] is JsonArray items
            ? items
            : [obj];

    /// <summary>Writes the install artifacts, or with <paramref name="check"/> lists stale ones (exit 1).</summary>
    public static int RunInstallArtifacts(string? outputDirectory, bool check, string workingDirectory, TextWriter output, TextWriter error)
    {
        var root = InstallArtifacts.FindRepositoryRoot(workingDirectory);
        if (outputDirectory is null && root is null)
        {
            error.WriteLine($"--output: not inside the ArgoHooks repository ({workingDirectory}); pass --output DIR.");
            return UsageError;
        }
        var target = Path.GetFullPath(outputDirectory ?? Path.Combine(root!, InstallArtifacts.DefaultOutputFolder), workingDirectory);

        // Inside the repository the script on disk is the source of truth; elsewhere the embedded copy is.
        var scriptFile = root is null ? null : Path.Combine(root, HealthScript.InferenceServiceRepositoryPath);
        var script = scriptFile is not null && File.Exists(scriptFile)
            ? File.ReadAllText(scriptFile)
            : HealthScript.InferenceService.Source;

        if (check)
        {
            var stale = InstallArtifacts.FindStale(script, target);
            foreach (var path in stale)
            {
                error.WriteLine($"stale: {path}");
            }
            if (stale.Count > 0)
            {
                error.WriteLine($"Run `{InstallArtifacts.RegenerateCommand}` and commit the result.");
                return 1;
            }
            output.WriteLine($"install artifacts in {target} are up to date.");
            return 0;
        }

        foreach (var path in InstallArtifacts.Write(script, target))
        {
            output.WriteLine($"wrote {path}");
        }
        return 0;
    }
}
