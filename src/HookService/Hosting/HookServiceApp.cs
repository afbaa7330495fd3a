using ArgoHooks.HookService.Artifacts;
using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Kubernetes;
using ArgoHooks.HookService.Observability;
using ArgoHooks.HookService.Predictors;
using ArgoHooks.HookService.Runs;
using ArgoHooks.HookService.Security;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ArgoHooks.HookService.Hosting;

/// <summary>Builds the web service: configuration, logging, services, endpoints. Program.cs and the tests both use it.</summary>
public static class HookServiceApp
{
    /// <param name="args">Command-line configuration (e.g. --urls, --ArgoHooks:Kubernetes:Host=...).</param>
    /// <param name="overrides">Applied after the product's registrations: tests replace ports or the TimeProvider here.</param>
    public static WebApplication Build(string[] args, Action<IServiceCollection>? overrides = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ApplicationName = typeof(HookServiceApp).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(console =>
        {
            console.IncludeScopes = true;
            console.UseUtcTimestamp = true;
            console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });

        builder.Services.AddHookService(builder.Configuration);
        overrides?.Invoke(builder.Services);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapOperationsEndpoints();
        app.MapRunEndpoints();
        return app;
    }

    public static IServiceCollection AddHookService(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ArtifactOptions>().BindConfiguration(ArtifactOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RunOptions>().BindConfiguration(RunOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddProblemDetails();
        services.AddSingleton<HookMetrics>();
        services.AddHostedService<KubernetesMeterBridge>();
        services.AddSingleton<StorageUriResolver>();
        services.AddSingleton<ArtifactWaiter>();
        services.AddSingleton<ActionSlots>();
        services.AddSingleton<InferenceServiceHealer>();
        services.AddSingleton<RunRegistry>();
        services.AddHostedService(provider => provider.GetRequiredService<RunRegistry>());
        services.AddSingleton<IApiServerReadiness, ApiServerReadiness>();

        services.AddKubernetesAdapters(configuration);
        services.AddPredictorProbes(configuration);
        services.AddCallerAuthorization(configuration); // allow-all with a start-up warning when ArgoHooks:Security:Enabled=false
        services.AddContinuousVerification(configuration); // inert unless ArgoHooks:Continuous:Enabled
        return services;
    }
}
