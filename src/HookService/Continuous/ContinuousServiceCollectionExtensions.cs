using ArgoHooks.HookService.Continuous;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

// In the service's root namespace so that Hosting/HookServiceApp registers it with one line and no using.
namespace ArgoHooks.HookService;

public static class ContinuousServiceCollectionExtensions
{
    /// <summary>
    /// ArgoHooks:Continuous options (validated at start-up) and the continuous verifier, hosted as a BackgroundService
    /// that does nothing unless Enabled. Needs the hook service's registrations (AddHookService) for the ports and runs.
    /// </summary>
    public static IServiceCollection AddContinuousVerification(this IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(descriptor => descriptor.ServiceType == typeof(ContinuousVerifier)))
        {
            return services; // registered already: binding the options twice would repeat list entries
        }

        services.AddOptions<ContinuousOptions>().Bind(configuration.GetSection(ContinuousOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ContinuousOptions>, ContinuousOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ContinuousMetrics>();
        services.TryAddSingleton<ContinuousGuardRails>();
        services.TryAddSingleton<ArtifactFolderMonitor>();
        services.TryAddSingleton<IContinuousLeadership>(provider => provider.GetRequiredService<IOptions<ContinuousOptions>>().Value.LeaderElection.Enabled
            ? ActivatorUtilities.CreateInstance<LeaseLeadership>(provider)
            : ActivatorUtilities.CreateInstance<SoleLeadership>(provider));
        services.TryAddSingleton<ContinuousVerifier>();
        services.AddHostedService<ContinuousVerificationService>();
        return services;
    }
}
