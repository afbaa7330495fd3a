using ArgoHooks.ClusterEmulator;
using ArgoHooks.HookService.Hosting;
using Microsoft.AspNetCore.Builder;

namespace ArgoHooks.Demo.Scenario;

/// <summary>
/// The emulated cluster plus the real hook service (real adapters, Kestrel on 127.0.0.1) pointed at it, with
/// security on: a caller ServiceAccount (audience argohooks) allowed to patch InferenceServices in the namespace,
/// exactly what the wave-5 Job's projected token gets in a real cluster.
/// </summary>
public sealed class HookServiceUnderTest : IAsyncDisposable
{
    public const string CallerServiceAccount = "argohooks-caller";

    private readonly string[] settingArgs;

    private HookServiceUnderTest(EmulatedCluster cluster, WebApplication service, string tokenFile, string[] settingArgs)
    {
        Cluster = cluster;
        Service = service;
        TokenFile = tokenFile;
        BaseAddress = new Uri(service.Urls.First() + "/");
        this.settingArgs = settingArgs;
    }

    public EmulatedCluster Cluster { get; }

    /// <summary>The running hook service (a new instance after <see cref="RestartServiceAsync"/>).</summary>
    public WebApplication Service { get; private set; }
    public Uri BaseAddress { get; }

    /// <summary>Where the caller's ServiceAccount token is, as the Job's projected volume would hold it.</summary>
    public string TokenFile { get; }

    public static async Task<HookServiceUnderTest> StartAsync(
        string @namespace, string claim, EmulatorOptions emulator, IDictionary<string, string> serviceSettings, CancellationToken cancellationToken)
    {
        var cluster = await EmulatedCluster.StartAsync(emulator, cancellationToken);
        try
        {
            var callerToken = "caller-" + Guid.NewGuid().ToString("N");
            cluster.Access.AddServiceAccountToken(callerToken, @namespace, CallerServiceAccount, ["argohooks"]);
            cluster.Access.Allow($"system:serviceaccount:{@namespace}:{CallerServiceAccount}", "patch", "serving.kserve.io", "inferenceservices", @namespace);
            cluster.Storage.ClaimDirectory(claim);
            var tokenFile = Path.Combine(cluster.Storage.Root, ".caller-token");
            await File.WriteAllTextAsync(tokenFile, callerToken, cancellationToken);

            var settings = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["ArgoHooks:Kubernetes:Host"] = cluster.BaseAddress.ToString(),
                ["ArgoHooks:Kubernetes:Token"] = cluster.AdminToken,
                ["ArgoHooks:Artifacts:ClaimsRoot"] = cluster.Storage.Root,
                ["Logging:LogLevel:Default"] = "Warning",
            };
            foreach (var (key, value) in serviceSettings)
            {
                settings[key] = value;
            }

            string[] settingArgs = [.. settings.Select(setting => $"--{setting.Key}={setting.Value}")];
            var service = HookServiceApp.Build(["--urls=http://127.0.0.1:0", .. settingArgs]);
            await service.StartAsync(cancellationToken);
            return new HookServiceUnderTest(cluster, service, tokenFile, settingArgs);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Kills the hook service the hard way an in-process host allows (stop with an already-cancelled token: in-flight
    /// work is abandoned, nothing graceful runs to completion), leaves it down for <paramref name="downtime"/>, then starts
    /// a fresh instance with the same settings on the same address — a pod replaced by its Deployment.
    /// </summary>
    public async Task RestartServiceAsync(TimeSpan downtime, CancellationToken cancellationToken)
    {
        using (var kill = new CancellationTokenSource())
        {
            await kill.CancelAsync();
            try
            {
                await Service.StopAsync(kill.Token);
            }
            catch (OperationCanceledException)
            {
                // Expected: the stop was not allowed to wait for anything.
            }
        }

        await Service.DisposeAsync();
        await Task.Delay(downtime, TimeProvider.System, cancellationToken);
        var service = HookServiceApp.Build([$"--urls={BaseAddress.GetLeftPart(UriPartial.Authority)}", .. settingArgs]);
        await service.StartAsync(cancellationToken);
        Service = service;
    }

    public async ValueTask DisposeAsync()
    {
        await Service.StopAsync(CancellationToken.None);
        await Service.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}
