using System.CommandLine;
using System.Diagnostics;
using ArgoHooks.Health.Cli;
using YamlDotNet.RepresentationModel;

namespace ArgoHooks.Health.Tests;

/// <summary>The committed argocd-cm/ artifacts are what the generator produces from health.lua, and they carry it byte for byte.</summary>
public sealed class InstallArtifactTests
{
    private static string Script => File.ReadAllText(Repository.InferenceServiceScriptPath);

    [Fact]
    public void Committed_artifacts_are_up_to_date()
    {
        var stale = InstallArtifacts.FindStale(Script, Repository.ArtifactsFolder);
        Assert.True(stale.Count == 0,
            $"Stale install artifacts: {string.Join(", ", stale)}. Run `{InstallArtifacts.RegenerateCommand}` and commit the result.");
    }

    [Theory]
    [InlineData("argocd-cm-patch.yaml", new[] { "data", InstallArtifacts.ConfigMapKey })]
    [InlineData("helm-values.yaml", new[] { "configs", "cm", InstallArtifacts.ConfigMapKey })]
    [InlineData("argocd-cr-patch.yaml", new[] { "spec", "resourceHealthChecks", "0", "check" })]
    public void Each_artifact_embeds_the_script_byte_for_byte(string file, string[] path)
    {
        var document = Load(File.ReadAllText(Path.Combine(Repository.ArtifactsFolder, file)));
        Assert.Equal(Script, Scalar(document, path));
    }

    [Fact]
    public void The_argocd_cr_patch_names_group_and_kind()
    {
        var document = Load(File.ReadAllText(Path.Combine(Repository.ArtifactsFolder, "argocd-cr-patch.yaml")));
        Assert.Equal("serving.kserve.io", Scalar(document, ["spec", "resourceHealthChecks", "0", "group"]));
        Assert.Equal("InferenceService", Scalar(document, ["spec", "resourceHealthChecks", "0", "kind"]));
        Assert.Equal("ArgoCD", Scalar(document, ["kind"]));
    }

    [Theory]
    [InlineData("no trailing newline")]
    [InlineData("two trailing newlines\n\n")]
    [InlineData("  leading spaces\nthen not\n")]
    [InlineData("blank\n\n   \nlines\twith tab\n")]
    [InlineData("")]
    public void Block_scalars_round_trip_any_script(string script)
    {
        foreach (var (_, content) in InstallArtifacts.Generate(script).Where(a => a.Key != "kustomization.yaml" && a.Key != "argocd-cm-base.yaml"))
        {
            var document = Load(content);
            var found = content.Contains("resourceHealthChecks", StringComparison.Ordinal)
                ? Scalar(document, ["spec", "resourceHealthChecks", "0", "check"])
                : content.Contains("configs:", StringComparison.Ordinal)
                    ? Scalar(document, ["configs", "cm", InstallArtifacts.ConfigMapKey])
                    : Scalar(document, ["data", InstallArtifacts.ConfigMapKey]);
            Assert.Equal(script, found);
        }
    }

    [Fact]
    public async Task Kubectl_kustomize_renders_argocd_cm_with_the_health_check()
    {
        var kubectl = FindOnPath("kubectl");
        if (kubectl is null)
        {
            Assert.Skip("kubectl is not installed, so `kubectl kustomize argocd-cm` cannot be checked here.");
        }
        var start = new ProcessStartInfo(kubectl, ["kustomize", Repository.ArtifactsFolder])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == 0, $"kubectl kustomize failed: {await error}");

        var rendered = Load(await output);
        Assert.Equal("ConfigMap", Scalar(rendered, ["kind"]));
        Assert.Equal("argocd-cm", Scalar(rendered, ["metadata", "name"]));
        Assert.Equal("argocd", Scalar(rendered, ["metadata", "namespace"]));
        Assert.Equal(Script, Scalar(rendered, ["data", InstallArtifacts.ConfigMapKey]));
    }

    [Fact]
    public void Install_artifacts_check_lists_stale_files_and_writing_fixes_them()
    {
        using var temporary = new TemporaryFolder("argohooks-artifacts-");
        var folder = temporary.Path;
        var (exit, _, error) = Run(["install-artifacts", "--check", "--output", folder]);
        Assert.Equal(1, exit);
        Assert.Contains("stale: " + Path.Combine(folder, "argocd-cm-patch.yaml"), error, StringComparison.Ordinal);

        (exit, var output, _) = Run(["install-artifacts", "--output", folder]);
        Assert.Equal(0, exit);
        Assert.Contains("helm-values.yaml", output, StringComparison.Ordinal);

        (exit, _, _) = Run(["install-artifacts", "--check", "--output", folder]);
        Assert.Equal(0, exit);

        File.AppendAllText(Path.Combine(folder, "helm-values.yaml"), "# hand edit\n");
        (exit, _, error) = Run(["install-artifacts", "--check", "--output", folder]);
        Assert.Equal(1, exit);
        Assert.Contains("helm-values.yaml", error, StringComparison.Ordinal);
        Assert.DoesNotContain("argocd-cm-patch.yaml", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Health_command_prints_one_line_per_object()
    {
        using var temporary = new TemporaryFolder("argohooks-health-");
        var folder = temporary.Path;
        var file = Path.Combine(folder, "objects.yaml");
        File.WriteAllText(file,
            File.ReadAllText(Path.Combine(Repository.InferenceServiceTestdata, "progressing_no_status.yaml"))
            + "---\n"
            + File.ReadAllText(Path.Combine(Repository.InferenceServiceTestdata, "healthy_verified_current_generation.yaml")));

        var (exit, output, _) = Run(["health", file]);

        Assert.Equal(0, exit);
        Assert.Equal(
            [
                $"{file}: Progressing Waiting for the KServe controller to report status.",
                $"{file}: Healthy Model sklearn-iris answered ready on 1 of 1 predictor pods.",
            ],
            output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.TrimEnd('\r')));
    }

    [Fact]
    public void Health_command_evaluates_the_items_of_a_kubectl_list()
    {
        using var temporary = new TemporaryFolder("argohooks-health-");
        var folder = temporary.Path;
        var file = Path.Combine(folder, "list.json");
        var list = new System.Text.Json.Nodes.JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "List",
            ["items"] = new System.Text.Json.Nodes.JsonArray(
                YamlObjects.Parse(File.ReadAllText(Path.Combine(Repository.InferenceServiceTestdata, "suspended_stopped_raw.yaml"))).Single(),
                YamlObjects.Parse(File.ReadAllText(Path.Combine(Repository.InferenceServiceTestdata, "progressing_strict_never_verified.yaml"))).Single()),
        };
        File.WriteAllText(file, list.ToJsonString());

        var (exit, output, _) = Run(["health", file]);

        Assert.Equal(0, exit);
        Assert.Equal(
            [$"{file}: Suspended ", $"{file}: Progressing "],
            output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line[..(line.IndexOf(' ', file.Length + 2) + 1)]));
    }

    [Fact]
    public void Health_command_uses_a_script_given_with_the_script_option()
    {
        using var temporary = new TemporaryFolder("argohooks-health-");
        var folder = temporary.Path;
        var script = Path.Combine(folder, "always.lua");
        File.WriteAllText(script, """return { status = "Degraded", message = "always" }""");
        var input = Path.Combine(folder, "object.json");
        File.WriteAllText(input, """{"kind":"InferenceService"}""");

        var (exit, output, _) = Run(["health", "--script", script, input]);

        Assert.Equal(0, exit);
        Assert.Equal($"{input}: Degraded always", output.Trim());
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("invalid")]
    public void Health_command_exits_2_on_unreadable_input(string kind)
    {
        using var temporary = new TemporaryFolder("argohooks-health-");
        var folder = temporary.Path;
        var file = Path.Combine(folder, "object.yaml");
        if (kind == "invalid")
        {
            File.WriteAllText(file, "metadata: [unclosed\n");
        }

        var (exit, output, error) = Run(["health", file]);

        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.Contains(file, error, StringComparison.Ordinal);
    }

    private static (int Exit, string Output, string Error) Run(string[] args)
    {
        var root = new RootCommand("test host");
        foreach (var command in HealthCommands.Create())
        {
            root.Add(command);
        }
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    private static YamlNode Load(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents.Single().RootNode;
    }

    private static string? Scalar(YamlNode node, string[] path)
    {
        foreach (var step in path)
        {
            node = node is YamlSequenceNode list ? list.Children[int.Parse(step, System.Globalization.CultureInfo.InvariantCulture)] : ((YamlMappingNode)node)[step];
        }
        return ((YamlScalarNode)node).Value;
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, name))
            .FirstOrDefault(File.Exists);

    private sealed class TemporaryFolder(string prefix) : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
