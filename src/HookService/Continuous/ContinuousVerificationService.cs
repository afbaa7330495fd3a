using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Continuous;

/// <summary>Hosts <see cref="ContinuousVerifier"/> when ArgoHooks:Continuous:Enabled is true; resolves nothing otherwise.</summary>
public sealed class ContinuousVerificationService(IOptions<ContinuousOptions> options, IServiceProvider services, ILogger<ContinuousVerificationService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            logger.LogDebug("Continuous verification is disabled (ArgoHooks:Continuous:Enabled=false).");
            return;
        }

        var verifier = services.GetRequiredService<ContinuousVerifier>();
        try
        {
            await verifier.RunAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            logger.LogInformation("Continuous verification stopped.");
        }
    }
}
