using System.Net;
using System.Net.Sockets;
using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Hosting;
using ArgoHooks.HookService.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace ArgoHooks.HookService.Tests.Fakes;

/// <summary>The real hook service (real Kestrel on 127.0.0.1) built by <see cref="HookServiceApp.Build"/>.</summary>
public sealed class ServiceHost : IAsyncDisposable
{
    private ServiceHost(WebApplication app, Uri baseAddress)
    {
        App = app;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(2) };
    }

    public WebApplication App { get; }
    public Uri BaseAddress { get; }
    public HttpClient Client { get; }

    /// <param name="port">0 for any free port.</param>
    public static async Task<ServiceHost> StartAsync(IDictionary<string, string> settings, Action<IServiceCollection>? overrides = null, int port = 0)
    {
        var args = new List<string> { $"--urls=http://127.0.0.1:{port}" };
        args.AddRange(settings.Select(setting => $"--{setting.Key}={setting.Value}"));
        var app = HookServiceApp.Build([.. args], overrides);
        try
        {
            await app.StartAsync(TestContext.Current.CancellationToken);
        }
        catch (Exception)
        {
            await app.DisposeAsync(); // a start that failed (e.g. invalid options) must not leave the host behind
            throw;
        }

        return new ServiceHost(app, new Uri(app.Urls.First() + "/"));
    }

    /// <summary>A host whose ports are the <see cref="FakeCluster"/> and the <see cref="FakeAuthorizer"/>.</summary>
    public static Task<ServiceHost> StartWithFakesAsync(HealerFixture fixture, FakeAuthorizer authorizer, IDictionary<string, string>? extra = null, int port = 0,
        Microsoft.Extensions.Logging.ILoggerProvider? logs = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["ArgoHooks:Kubernetes:Host"] = "http://127.0.0.1:1",
            ["ArgoHooks:Kubernetes:Token"] = "unused",
            ["ArgoHooks:Artifacts:ClaimsRoot"] = fixture.ClaimsRoot,
            ["ArgoHooks:Artifacts:SettleInterval"] = "00:00:00.150",
            ["ArgoHooks:Artifacts:PollInterval"] = "00:00:00.020",
            ["ArgoHooks:Runs:VerifyTimeout"] = "00:00:00.400",
            ["ArgoHooks:Runs:VerifyRetryInterval"] = "00:00:00.020",
            ["ArgoHooks:Runs:ArtifactTimeout"] = "00:00:10",
            ["ArgoHooks:Runs:MaxWaitSeconds"] = "600",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        return StartAsync(settings, services =>
        {
            services.AddSingleton<IInferenceServiceStore>(fixture.Cluster);
            services.AddSingleton<IPredictorRestarter>(fixture.Cluster);
            services.AddSingleton<IRolloutWatcher>(fixture.Cluster);
            services.AddSingleton<IPredictorPods>(fixture.Cluster);
            services.AddSingleton<IModelProbe>(fixture.Cluster);
            services.AddSingleton<ICallerAuthorizer>(authorizer);
            services.AddSingleton<IApiServerReadiness>(new AlwaysReady());
            if (logs is not null)
            {
                services.AddSingleton(logs);
            }
        }, port);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private int disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        Client.Dispose();
        await App.StopAsync(CancellationToken.None);
        await App.DisposeAsync();
    }

    private sealed class AlwaysReady : IApiServerReadiness
    {
        public Task<ReadinessResult> CheckAsync(CancellationToken cancellationToken) => Task.FromResult(new ReadinessResult(true, "fake API server"));
    }
}
