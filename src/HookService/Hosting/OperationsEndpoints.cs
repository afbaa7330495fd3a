using Prometheus;

namespace ArgoHooks.HookService.Hosting;

/// <summary>/healthz (the process answers), /readyz (the API server answers; cached), /metrics (Prometheus). Unauthenticated.</summary>
public static class OperationsEndpoints
{
    public static IEndpointRouteBuilder MapOperationsEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/readyz", async (IApiServerReadiness readiness, CancellationToken cancellationToken) =>
        {
            var result = await readiness.CheckAsync(cancellationToken);
            return result.Ready
                ? Results.Text(result.Detail)
                : Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not ready", detail: result.Detail);
        });
        app.MapMetrics("/metrics");
        return app;
    }
}
