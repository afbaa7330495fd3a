using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ArgoHooks.ClusterEmulator;
using ArgoHooks.Demo.Scenario;

namespace ArgoHooks.Demo.Bench;

public sealed record FootprintReport(
    double StartToReadySeconds, double IdleRssMegabytes, double PeakRssDuringRunMegabytes, double RssAfterRunMegabytes, ContenderRun Run,
    double? WorkstationGcStartToReadySeconds = null, double? WorkstationGcIdleRssMegabytes = null,
    Reliability.LoadScenario.LoadFigures? Load = null, double? RssAfterLoadMegabytes = null, double? PeakRssDuringLoadMegabytes = null);

/// <summary>
/// The published service as a child process (the real executable, not the in-process host) against an emulator
/// hosted here: start-up to /readyz 200, idle RSS, RSS while it drives a large run.
/// </summary>
public static class Footprint
{
    public const double IdleTargetMegabytes = 60;
    public const double ReadyTargetSeconds = 1;

    public static async Task<FootprintReport> MeasureAsync(BenchOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        var time = TimeProvider.System;
        var published = options.PublishDirectory ?? await PublishAsync(RepositoryRoot.Find(options.RepositoryRoot), output, cancellationToken);
        await using var cluster = await EmulatedCluster.StartAsync(Contenders.Emulator(options.PredictorStartupDelay), cancellationToken);
        var tokenFile = await CallerTokenAsync(cluster, cancellationToken);
        var port = FreePort();
        var settings = new Dictionary<string, string>(Contenders.ServiceSettings(options), StringComparer.Ordinal)
        {
            ["ArgoHooks:Kubernetes:Host"] = cluster.BaseAddress.ToString(),
            ["ArgoHooks:Kubernetes:Token"] = cluster.AdminToken,
            ["ArgoHooks:Artifacts:ClaimsRoot"] = cluster.Storage.Root,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        var start = StartInfo(published, port, settings);
        var service = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/"));
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(2) };
        var started = time.GetTimestamp();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        var logs = Task.WhenAll(process.StandardOutput.ReadToEndAsync(cancellationToken), process.StandardError.ReadToEndAsync(cancellationToken));
        try
        {
            await WaitReadyAsync(http, service, process, cancellationToken);
            var ready = time.GetElapsedTime(started).TotalSeconds;
            await Task.Delay(TimeSpan.FromSeconds(3), time, cancellationToken); // idle: let start-up garbage be collected
            var idle = RssMegabytes(process.Id);

            using var sampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var peak = idle;
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    peak = Math.Max(peak, RssMegabytes(process.Id));
                    try
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(100), time, sampling.Token);
                    }
                    catch (OperationCanceledException) when (sampling.IsCancellationRequested)
                    {
                        return;
                    }
                }
            }, cancellationToken);
            var run = await Contenders.DriveArgoHooksAsync(cluster, service, tokenFile, options, options.FootprintModels, 1, cancellationToken);
            var runPeak = peak;
            var after = RssMegabytes(process.Id);
            Reliability.LoadScenario.LoadFigures? load = null;
            double? afterLoad = null;
            if (options.FootprintLoadDuration > TimeSpan.Zero)
            {
                using var client = new Reliability.RunClient(service, tokenFile);
                var names = Fleet.Numbered(BenchOptions.Namespace, BenchOptions.Claim, options.FootprintModels).Names;
                load = await Reliability.LoadScenario.DriveAsync(client, BenchOptions.Namespace, names, options.FootprintLoadRunsPerMinute, options.FootprintLoadDuration, cancellationToken);
                afterLoad = RssMegabytes(process.Id);
            }

            await sampling.CancelAsync();
            await sampler;
            var (workstationReady, workstationIdle) = await IdleAsync(StartInfo(published, FreePort(), settings, workstationGc: true), http, cancellationToken);
            var report = new FootprintReport(ready, idle, runPeak, after, run, workstationReady, workstationIdle, load, afterLoad, load is null ? null : peak);
            await output.WriteLineAsync(Table(report, published));
            return report;
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync(CancellationToken.None);
            var texts = await logs;
            if (process.ExitCode is not (0 or 137 or -1) && texts.Any(text => text.Length > 0))
            {
                await output.WriteLineAsync("argohooks child process output:\n" + string.Join('\n', texts));
            }
        }
    }

    private static ProcessStartInfo StartInfo(string published, int port, IReadOnlyDictionary<string, string> settings, bool workstationGc = false)
    {
        var start = new ProcessStartInfo(Path.Combine(published, "argohooks"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(string.Create(CultureInfo.InvariantCulture, $"--urls=http://127.0.0.1:{port}"));
        foreach (var (key, value) in settings)
        {
            start.ArgumentList.Add($"--{key}={value}");
        }

        if (workstationGc)
        {
            start.Environment["DOTNET_gcServer"] = "0";
        }

        return start;
    }

    /// <summary>Starts a second child only to measure start-up and idle RSS with other runtime settings.</summary>
    private static async Task<(double ReadySeconds, double IdleMegabytes)> IdleAsync(ProcessStartInfo start, HttpClient http, CancellationToken cancellationToken)
    {
        var time = TimeProvider.System;
        var service = new Uri(start.ArgumentList[0]["--urls=".Length..] + "/");
        var started = time.GetTimestamp();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        var logs = Task.WhenAll(process.StandardOutput.ReadToEndAsync(cancellationToken), process.StandardError.ReadToEndAsync(cancellationToken));
        try
        {
            await WaitReadyAsync(http, service, process, cancellationToken);
            var ready = time.GetElapsedTime(started).TotalSeconds;
            await Task.Delay(TimeSpan.FromSeconds(3), time, cancellationToken);
            return (ready, RssMegabytes(process.Id));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync(CancellationToken.None);
            await logs;
        }
    }

    public static string Table(FootprintReport report, string published) => string.Join('\n',
        $"Footprint of the published service ({published}/argohooks as a child process; the emulator runs in this process)",
        string.Create(CultureInfo.InvariantCulture, $"  process start → /readyz 200            {report.StartToReadySeconds:0.00} s      {Stats.Mark(report.StartToReadySeconds <= ReadyTargetSeconds)} target ≤{ReadyTargetSeconds:0} s"),
        string.Create(CultureInfo.InvariantCulture, $"  idle RSS (VmRSS, 3 s after ready)       {report.IdleRssMegabytes:0.0} MB   {Stats.Mark(report.IdleRssMegabytes <= IdleTargetMegabytes)} target ≤{IdleTargetMegabytes:0} MB"),
        string.Create(CultureInfo.InvariantCulture, $"  peak RSS during the {report.Run.Size}-model run      {report.PeakRssDuringRunMegabytes:0.0} MB"),
        string.Create(CultureInfo.InvariantCulture, $"  RSS after the run                       {report.RssAfterRunMegabytes:0.0} MB"),
        report.WorkstationGcIdleRssMegabytes is { } workstation
            ? string.Create(CultureInfo.InvariantCulture, $"  same binary with DOTNET_gcServer=0: start → /readyz {report.WorkstationGcStartToReadySeconds:0.00} s, idle RSS {workstation:0.0} MB   {Stats.Mark(workstation <= IdleTargetMegabytes)}")
            : "",
        report.Load is { } load
            ? string.Create(CultureInfo.InvariantCulture, $"  then load ({load.Runs / load.Elapsed.TotalMinutes:0} runs/min, {load.Elapsed.TotalSeconds:0} s): RSS {report.RssAfterRunMegabytes:0.0} → {report.RssAfterLoadMegabytes:0.0} MB (peak {report.PeakRssDuringLoadMegabytes:0.0} MB); {load.Describe()}")
            : "",
        string.Create(CultureInfo.InvariantCulture, $"  that run: {report.Run.Done}/{report.Run.Size} verified, last stable → all verified {(report.Run.LastStableToAllDone is { } span ? Stats.Seconds(span.TotalSeconds) : "never")}, {Stats.Number(report.Run.RequestsPerInferenceService)} API requests per InferenceService"),
        "");

    /// <summary>dotnet publish src/HookService -c Release into a temporary folder (own artifacts path: other builds may run).</summary>
    public static async Task<string> PublishAsync(string repository, TextWriter output, CancellationToken cancellationToken)
    {
        var target = Path.Combine(Path.GetTempPath(), "argohooks-bench-publish");
        await output.WriteLineAsync($"publishing src/HookService (Release) to {target} ...");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = repository,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "publish", "src/HookService", "-c", "Release", "-o", target, "--artifacts-path", Path.Combine(Path.GetTempPath(), "argohooks-bench-publish-artifacts"), "-nologo", "-v", "quiet" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet publish");
        var texts = await Task.WhenAll(process.StandardOutput.ReadToEndAsync(cancellationToken), process.StandardError.ReadToEndAsync(cancellationToken));
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet publish failed ({process.ExitCode}):\n{string.Join('\n', texts)}");
        }

        return target;
    }

    /// <summary>A caller ServiceAccount allowed to patch InferenceServices in the bench namespace, as HookServiceUnderTest sets up.</summary>
    internal static async Task<string> CallerTokenAsync(EmulatedCluster cluster, CancellationToken cancellationToken)
    {
        var token = "caller-" + Guid.NewGuid().ToString("N");
        cluster.Access.AddServiceAccountToken(token, BenchOptions.Namespace, HookServiceUnderTest.CallerServiceAccount, ["argohooks"]);
        cluster.Access.Allow($"system:serviceaccount:{BenchOptions.Namespace}:{HookServiceUnderTest.CallerServiceAccount}", "patch", "serving.kserve.io", "inferenceservices", BenchOptions.Namespace);
        var file = Path.Combine(cluster.Storage.Root, ".caller-token");
        await File.WriteAllTextAsync(file, token, cancellationToken);
        return file;
    }

    private static async Task WaitReadyAsync(HttpClient http, Uri service, Process process, CancellationToken cancellationToken)
    {
        var deadline = TimeProvider.System.GetTimestamp() + TimeProvider.System.TimestampFrequency * 60;
        while (TimeProvider.System.GetTimestamp() < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"argohooks exited with {process.ExitCode} before it was ready");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(service, "readyz"), cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet: that is what we are timing
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System, cancellationToken);
        }

        throw new TimeoutException("argohooks was not ready within 60 s");
    }

    public static double RssMegabytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kilobytes = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                return kilobytes / 1024.0;
            }
        }

        return double.NaN;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
