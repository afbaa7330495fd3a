using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ArgoHooks.Health.Tests;

/// <summary>Runs objects through tests/gopher-lua-runner, Argo CD's Lua VM (gopher-lua) with its closed libraries.</summary>
internal static class GopherLua
{
    public static string RunnerPath => Path.Combine(Repository.Root, "tests", "gopher-lua-runner", "gopher-lua-runner");

    /// <summary>One verdict per object, in order; one runner process per call.</summary>
    public static IReadOnlyList<HealthStatus> Evaluate(string scriptPath, IEnumerable<JsonNode?> objects)
    {
        Assert.True(File.Exists(RunnerPath),
            $"The gopher-lua runner is missing ({RunnerPath}): run `bash tests/gopher-lua-runner/build.sh` (scripts/test.sh does it).");

        var start = new ProcessStartInfo(RunnerPath)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(scriptPath);
        using var process = Process.Start(start)!;
        var outputTask = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errorTask = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        var count = 0;
        foreach (var obj in objects)
        {
            process.StandardInput.WriteLine(obj is null ? "null" : obj.ToJsonString());
            count++;
        }
        process.StandardInput.Close();
        process.WaitForExit();
        var lines = outputTask.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(process.ExitCode == 0 && lines.Length == count,
            $"gopher-lua runner exited {process.ExitCode} with {lines.Length} verdicts for {count} objects: {errorTask.Result}");
        return lines.Select(line =>
        {
            using var verdict = JsonDocument.Parse(line);
            return new HealthStatus(verdict.RootElement.GetProperty("status").GetString()!, verdict.RootElement.GetProperty("message").GetString()!);
        }).ToList();
    }

    /// <summary>Runs Lua source (not a file) through the runner.</summary>
    public static HealthStatus EvaluateSource(string source, JsonNode? obj)
    {
        var path = Path.Combine(Path.GetTempPath(), $"argohooks-health-{Guid.NewGuid():N}.lua");
        File.WriteAllText(path, source);
        try
        {
            return Evaluate(path, [obj]).Single();
        }
        finally
        {
            File.Delete(path);
        }
    }
}
