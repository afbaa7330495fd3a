using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace ArgoHooks.Deploy.Tests;

/// <summary>
/// Docker is not needed: the Dockerfile's own publish command runs here (parsed from the Dockerfile,
/// so the two cannot drift), and the published executable runs the health script through NLua.
/// </summary>
public sealed partial class ContainerImageTests
{
    private static readonly string DockerfilePath = RepositoryPaths.Combine("Dockerfile");

    /// <summary>The Dockerfile's instructions with line continuations joined.</summary>
    private static IReadOnlyList<string> Instructions() =>
        ContinuationPattern().Replace(File.ReadAllText(DockerfilePath), " ")
            .Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .ToList();

    internal static IReadOnlyList<string> PublishArguments()
    {
        var run = Assert.Single(Instructions(), line => line.StartsWith("RUN dotnet publish ", StringComparison.Ordinal));
        return run["RUN dotnet ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public void The_image_is_a_self_contained_non_root_service_that_also_runs_call()
    {
        var instructions = Instructions();
        var froms = instructions.Where(line => line.StartsWith("FROM ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, froms.Count);
        Assert.StartsWith("FROM mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled", froms[^1], StringComparison.Ordinal);
        Assert.Contains("ENTRYPOINT [\"/app/argohooks\"]", instructions);
        Assert.Contains("EXPOSE 8080", instructions);
        Assert.Contains(instructions, line => line.StartsWith("ENV ", StringComparison.Ordinal) && line.Contains("ASPNETCORE_HTTP_PORTS=8080", StringComparison.Ordinal));
        var user = instructions.Last(line => line.StartsWith("USER ", StringComparison.Ordinal))["USER ".Length..];
        Assert.True(int.TryParse(user.Split(':')[0], out var uid) && uid > 0, $"USER must be a numeric non-root id, is '{user}'");

        var publish = PublishArguments();
        Assert.Equal("publish", publish[0]);
        Assert.Contains("--self-contained", publish);
        Assert.Equal("linux-x64", publish[publish.ToList().IndexOf("-r") + 1]);
        Assert.Equal("Release", publish[publish.ToList().IndexOf("-c") + 1]);
        Assert.Equal("/app", publish[publish.ToList().IndexOf("-o") + 1]);
    }

    [Fact]
    public void The_restore_layer_copies_every_project_the_service_builds_from()
    {
        var instructions = Instructions();
        var restoreIndex = instructions.ToList().FindIndex(line => line.StartsWith("RUN dotnet restore ", StringComparison.Ordinal));
        Assert.True(restoreIndex > 0, "the Dockerfile restores in its own layer");
        var copiedBeforeRestore = instructions.Take(restoreIndex).Where(line => line.StartsWith("COPY ", StringComparison.Ordinal)).SelectMany(line => line.Split(' ')[1..^1]).ToHashSet();
        var copiedAfterRestore = instructions.Skip(restoreIndex).Where(line => line.StartsWith("COPY ", StringComparison.Ordinal) && !line.Contains("--from", StringComparison.Ordinal)).SelectMany(line => line.Split(' ')[1..^1]).ToHashSet();
        Assert.Contains("Directory.Build.props", copiedBeforeRestore);
        Assert.Contains("Directory.Packages.props", copiedBeforeRestore);

        var ignored = File.ReadAllLines(RepositoryPaths.Combine(".dockerignore"))
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .ToList();
        foreach (var project in ProjectClosure(RepositoryPaths.Combine("src", "HookService", "HookService.csproj")))
        {
            var relative = Path.GetRelativePath(RepositoryPaths.Root, project).Replace('\\', '/');
            Assert.Contains(relative, copiedBeforeRestore);
            Assert.Contains(Path.GetDirectoryName(relative)!.Replace('\\', '/') + "/", copiedAfterRestore);
            Assert.DoesNotContain(ignored, pattern => relative.StartsWith(pattern.TrimEnd('/') + "/", StringComparison.Ordinal));
        }

        // ArgoHooks.Health embeds lua/health/.../health.lua.
        Assert.Contains("lua/", copiedAfterRestore);
        Assert.DoesNotContain("lua/", ignored);
    }

    /// <summary>Slow-ish (a Release publish: ~20 s warm, up to ~2 min cold on a busy 2-core machine); filter with Category=Slow.</summary>
    [Fact]
    [Trait("Category", "Slow")]
    public async Task The_dockerfile_publish_command_produces_a_working_argohooks_executable()
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : ProcessRunner.FindOnPath("dotnet");
        if (dotnet is null)
        {
            Assert.Skip("The dotnet CLI is not on PATH (nor DOTNET_HOST_PATH): cannot run the Dockerfile's publish command.");
        }

        if (!OperatingSystem.IsLinux() || System.Runtime.InteropServices.RuntimeInformation.OSArchitecture != System.Runtime.InteropServices.Architecture.X64)
        {
            Assert.Skip("The image's executable is linux-x64; this machine cannot run it.");
        }

        var cancellation = TestContext.Current.CancellationToken;
        var output = Directory.CreateTempSubdirectory("argohooks-publish-");
        try
        {
            // The same command with two changes only: the output folder, and a private artifacts path
            // (kept between runs as a cache) so a concurrent solution build is not disturbed.
            var arguments = PublishArguments().ToList();
            arguments[arguments.IndexOf("-o") + 1] = output.FullName;
            arguments.AddRange(["--artifacts-path", Path.Combine(Path.GetTempPath(), "argohooks-deploy-tests-publish"), "-nologo"]);
            var publish = await ProcessRunner.RunAsync(dotnet, arguments, RepositoryPaths.Root, TimeSpan.FromMinutes(4), cancellation);
            Assert.True(publish.ExitCode == 0, $"dotnet {string.Join(' ', arguments)} failed ({publish.ExitCode}):\n{publish.StandardOutput}\n{publish.StandardError}");

            var executable = Path.Combine(output.FullName, "argohooks");
            Assert.True(File.Exists(executable), "the publish output has no argohooks executable");
            Assert.True(OperatingSystem.IsLinux() && File.GetUnixFileMode(executable).HasFlag(UnixFileMode.UserExecute), "argohooks is not executable");
            Assert.True(File.Exists(Path.Combine(output.FullName, "liblua54.so")), "NLua's native liblua54.so (linux-x64) is missing from the publish output");
            // Self-contained: the runtime travels with the app (the runtime-deps base has no .NET).
            Assert.True(File.Exists(Path.Combine(output.FullName, "libcoreclr.so")), "the publish output is not self-contained");

            var help = await ProcessRunner.RunAsync(executable, ["--help"], output.FullName, TimeSpan.FromSeconds(30), cancellation);
            Assert.Equal(0, help.ExitCode);
            Assert.Contains("call", help.StandardOutput, StringComparison.Ordinal);
            Assert.Contains("serve", help.StandardOutput, StringComparison.Ordinal);

            // The health command runs the embedded health.lua through NLua and the native Lua library.
            var (input, status, message) = FirstHealthCase();
            var health = await ProcessRunner.RunAsync(executable, ["health", input], output.FullName, TimeSpan.FromSeconds(30), cancellation);
            Assert.True(health.ExitCode == 0, $"argohooks health failed ({health.ExitCode}): {health.StandardError}");
            Assert.Contains($"{status} {message}", health.StandardOutput, StringComparison.Ordinal);
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    private static (string Input, string Status, string Message) FirstHealthCase()
    {
        var folder = RepositoryPaths.Combine("lua", "health", "serving.kserve.io", "InferenceService");
        var tests = Kustomize.Parse(File.ReadAllText(Path.Combine(folder, "health_test.yaml")));
        var first = Assert.Single(tests).Root.Maps("tests")[0];
        return (Path.Combine(folder, first.Str("inputPath")!), first.At("healthStatus").Str("status")!, first.At("healthStatus").Str("message")!);
    }

    private static IEnumerable<string> ProjectClosure(string project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([Path.GetFullPath(project)]);
        while (pending.TryPop(out var current))
        {
            if (!seen.Add(current))
            {
                continue;
            }

            foreach (var reference in XDocument.Load(current).Descendants("ProjectReference"))
            {
                var include = reference.Attribute("Include")!.Value.Replace('\\', '/');
                pending.Push(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(current)!, include)));
            }
        }

        return seen;
    }

    [GeneratedRegex(@"\\\r?\n")]
    private static partial Regex ContinuationPattern();
}
