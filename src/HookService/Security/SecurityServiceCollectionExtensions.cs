using ArgoHooks.HookService.Kubernetes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Security;

public static class SecurityServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ICallerAuthorizer"/>: TokenReview + SubjectAccessReview over the IKubernetes client of
    /// <see cref="KubernetesServiceCollectionExtensions.AddKubernetesAdapters"/>, or, when
    /// ArgoHooks:Security:Enabled is false, an allow-all authorizer that warns at start-up.
    /// </summary>
    public static IServiceCollection AddCallerAuthorization(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(SecurityOptions.SectionName);
        services.AddOptions<SecurityOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SecurityOptions>, SecurityOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        if (section.GetValue(nameof(SecurityOptions.Enabled), true))
        {
            services.TryAddSingleton<ICallerAuthorizer, KubernetesCallerAuthorizer>();
        }
        else
        {
            services.TryAddSingleton<ICallerAuthorizer, AllowAllCallerAuthorizer>();
            services.AddHostedService<SecurityDisabledWarning>();
        }

        return services;
    }

    private sealed class SecurityDisabledWarning(ILogger<AllowAllCallerAuthorizer> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            logger.LogWarning("ArgoHooks:Security:Enabled is false: every caller may start runs that restart predictors in any namespace. Never run like this in a shared cluster.");
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
