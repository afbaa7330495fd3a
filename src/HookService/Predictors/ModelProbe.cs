using System.Net;
using System.Text;
using System.Text.Json;
using ArgoHooks.HookService.Healing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Predictors;

/// <summary>ArgoHooks:Predictors — how patient to be with one model server request.</summary>
public sealed class PredictorProbeOptions
{
    public const string SectionName = "ArgoHooks:Predictors";

    /// <summary>Timeout of one probe request (GET /v1/models/&lt;name&gt; or the v2 fallback).</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Timeout of the optional smoke prediction.</summary>
    public TimeSpan PredictTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How much of a response body is kept in a probe result's detail.</summary>
    public int MaxDetailLength { get; set; } = 512;
}

internal sealed class PredictorProbeOptionsValidator : IValidateOptions<PredictorProbeOptions>
{
    public ValidateOptionsResult Validate(string? name, PredictorProbeOptions options)
    {
        var failures = new List<string>();
        if (options.ProbeTimeout <= TimeSpan.Zero || options.ProbeTimeout > TimeSpan.FromMinutes(5))
        {
            failures.Add($"{PredictorProbeOptions.SectionName}:ProbeTimeout must be between 0 (exclusive) and 00:05:00; got {options.ProbeTimeout}.");
        }

        if (options.PredictTimeout <= TimeSpan.Zero || options.PredictTimeout > TimeSpan.FromMinutes(10))
        {
            failures.Add($"{PredictorProbeOptions.SectionName}:PredictTimeout must be between 0 (exclusive) and 00:10:00; got {options.PredictTimeout}.");
        }

        if (options.MaxDetailLength is < 32 or > 65536)
        {
            failures.Add($"{PredictorProbeOptions.SectionName}:MaxDetailLength must be between 32 and 65536; got {options.MaxDetailLength}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>
/// The model server's own probe. GET /v1/models/&lt;name&gt;: 200 with ready=true is Ready; 404/503 carry the server's
/// "error" text. A server without the v1 protocol (404 with a non-JSON body, or 405) is asked
/// GET /v2/models/&lt;name&gt;/ready instead. Never /v2/health/ready: it answers 200 with zero models loaded.
/// </summary>
public sealed class ModelProbe(HttpClient http, IOptions<PredictorProbeOptions> options, TimeProvider timeProvider) : IModelProbe
{
    public async Task<ProbeResult> ProbeAsync(PredictorPod pod, string modelName, CancellationToken cancellationToken)
    {
        var model = Uri.EscapeDataString(modelName);
        var v1 = await SendAsync(HttpMethod.Get, new Uri(pod.Endpoint, $"v1/models/{model}"), null, options.Value.ProbeTimeout, cancellationToken);
        if (v1.Transport is not null)
        {
            return v1.Transport;
        }

        var (status, body, json) = (v1.Status!.Value, v1.Body!, v1.Json);
        if (status == HttpStatusCode.OK)
        {
            var ready = json is { ValueKind: JsonValueKind.Object } root && root.TryGetProperty("ready", out var flag) && flag.ValueKind == JsonValueKind.True;
            return new ProbeResult(ready, (int)status, ready ? $"Model {modelName} is ready." : ErrorText(json, body, $"Model {modelName} is loaded but not ready."));
        }

        var speaksV1 = json is { ValueKind: JsonValueKind.Object };
        if (status == HttpStatusCode.MethodNotAllowed || (status == HttpStatusCode.NotFound && !speaksV1))
        {
            return await ProbeV2Async(pod, model, modelName, cancellationToken);
        }

        return new ProbeResult(false, (int)status, ErrorText(json, body, $"GET /v1/models/{modelName} answered {(int)status}."));
    }

    private async Task<ProbeResult> ProbeV2Async(PredictorPod pod, string escapedModel, string modelName, CancellationToken cancellationToken)
    {
        var v2 = await SendAsync(HttpMethod.Get, new Uri(pod.Endpoint, $"v2/models/{escapedModel}/ready"), null, options.Value.ProbeTimeout, cancellationToken);
        if (v2.Transport is not null)
        {
            return v2.Transport;
        }

        var status = v2.Status!.Value;
        return status == HttpStatusCode.OK
            ? new ProbeResult(true, (int)status, $"Model {modelName} is ready (v2 protocol).")
            : new ProbeResult(false, (int)status, ErrorText(v2.Json, v2.Body!, $"GET /v2/models/{modelName}/ready answered {(int)status}."));
    }

    public async Task<ProbeResult> PredictAsync(PredictorPod pod, string modelName, string requestJson, CancellationToken cancellationToken)
    {
        var uri = new Uri(pod.Endpoint, $"v1/models/{Uri.EscapeDataString(modelName)}:predict");
        var answer = await SendAsync(HttpMethod.Post, uri, requestJson, options.Value.PredictTimeout, cancellationToken);
        if (answer.Transport is not null)
        {
            return answer.Transport;
        }

        var status = answer.Status!.Value;
        return status == HttpStatusCode.OK
            ? new ProbeResult(true, (int)status, Truncate(answer.Body!))
            : new ProbeResult(false, (int)status, ErrorText(answer.Json, answer.Body!, $"POST /v1/models/{modelName}:predict answered {(int)status}."));
    }

    private sealed record Answer(HttpStatusCode? Status, string? Body, JsonElement? Json, ProbeResult? Transport);

    private async Task<Answer> SendAsync(HttpMethod method, Uri uri, string? json, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            using var request = new HttpRequestMessage(method, uri);
            if (json is not null)
            {
                request.Content = new StringContent(json, Encoding.UTF8, "application/json");
            }

            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, linked.Token);
            var body = await response.Content.ReadAsStringAsync(linked.Token);
            return new Answer(response.StatusCode, body, ParseJson(body), null);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new Answer(null, null, null, new ProbeResult(false, null, $"{method} {uri.AbsolutePath} did not answer within {timeout}."));
        }
        catch (HttpRequestException error)
        {
            return new Answer(null, null, null, new ProbeResult(false, null, $"{method} {uri.AbsolutePath} failed: {error.Message}"));
        }
    }

    private static JsonElement? ParseJson(string body)
    {
        if (body.Length == 0 || body.TrimStart() is not ['{', ..] and not ['[', ..])
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null; // not JSON after all: the caller treats the body as plain text
        }
    }

    private string ErrorText(JsonElement? json, string body, string fallback)
    {
        if (json is { ValueKind: JsonValueKind.Object } root && root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String)
        {
            return Truncate(error.GetString()!);
        }

        return body.Trim().Length > 0 ? $"{fallback} {Truncate(body.Trim())}" : fallback;
    }

    private string Truncate(string text) =>
        text.Length <= options.Value.MaxDetailLength ? text : text[..(options.Value.MaxDetailLength - 1)] + "…";
}

public static class PredictorProbeServiceCollectionExtensions
{
    /// <summary>Registers <see cref="IModelProbe"/> as a typed HttpClient with ArgoHooks:Predictors options (validated on start).</summary>
    public static IServiceCollection AddPredictorProbes(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PredictorProbeOptions>().Bind(configuration.GetSection(PredictorProbeOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PredictorProbeOptions>, PredictorProbeOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpClient<IModelProbe, ModelProbe>(client =>
            {
                // Per-request deadlines come from the options through the TimeProvider; the client's own timeout stays out of the way.
                client.Timeout = Timeout.InfiniteTimeSpan;
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.FromMinutes(2) });
        return services;
    }
}
