using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ArgoHooks.HookService.Runs;

namespace ArgoHooks.HookService.Cli;

/// <summary>What the hook service answered: a run, a problem, or nothing (StatusCode null: it could not be reached).</summary>
public sealed record ServiceAnswer(int? StatusCode, RunView? Run, string Problem)
{
    /// <summary>Worth asking again: no answer, a timeout, throttling or a server error (the service may be restarting).</summary>
    public bool IsTransient => StatusCode is null or 408 or 429 or >= 500;
}

/// <summary>Typed HttpClient for the hook service's run API.</summary>
public sealed class HookServiceClient(HttpClient http)
{
    public Task<ServiceAnswer> StartRunAsync(RunRequest request, string? token, CancellationToken cancellationToken)
    {
        var body = new Dictionary<string, object?>
        {
            ["namespace"] = request.Namespace,
            ["inferenceServices"] = request.InferenceServices,
            ["runId"] = request.RunId,
        };
        if (request.ArtifactTimeoutSeconds is { } seconds)
        {
            body["artifactTimeoutSeconds"] = seconds;
        }

        var message = new HttpRequestMessage(HttpMethod.Post, "v1/runs") { Content = JsonContent.Create(body) };
        return SendAsync(message, token, cancellationToken);
    }

    public Task<ServiceAnswer> GetRunAsync(string runId, int waitSeconds, long? after, string? token, CancellationToken cancellationToken)
    {
        var query = $"v1/runs/{Uri.EscapeDataString(runId)}?waitSeconds={waitSeconds}" + (after is { } version ? $"&after={version}" : "");
        return SendAsync(new HttpRequestMessage(HttpMethod.Get, query), token, cancellationToken);
    }

    private async Task<ServiceAnswer> SendAsync(HttpRequestMessage message, string? token, CancellationToken cancellationToken)
    {
        using (message)
        {
            if (token is not null)
            {
                message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            try
            {
                using var response = await http.SendAsync(message, cancellationToken);
                var status = (int)response.StatusCode;
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    var run = JsonSerializer.Deserialize<RunView>(text, JsonSerializerOptions.Web);
                    return new ServiceAnswer(status, run, run is null ? "The hook service answered an empty body." : "");
                }

                return new ServiceAnswer(status, null, DescribeProblem(status, text));
            }
            catch (HttpRequestException unreachable)
            {
                return new ServiceAnswer(null, null, $"The hook service could not be reached: {unreachable.Message}");
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return new ServiceAnswer(null, null, "The hook service did not answer in time.");
            }
            catch (JsonException malformed)
            {
                return new ServiceAnswer(null, null, $"The hook service answered something that is not a run: {malformed.Message}");
            }
        }
    }

    /// <summary>"title: detail (field: error; ...)" from an RFC 7807 body, else the status.</summary>
    private static string DescribeProblem(int status, string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            var builder = new StringBuilder();
            builder.Append(status).Append(' ');
            if (root.TryGetProperty("title", out var title) && title.ValueKind == JsonValueKind.String) builder.Append(title.GetString());
            if (root.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String) builder.Append(": ").Append(detail.GetString());
            if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
            {
                var fields = errors.EnumerateObject().Select(field => $"{field.Name}: {string.Join(" ", field.Value.EnumerateArray().Select(item => item.ToString()))}");
                builder.Append(" (").Append(string.Join("; ", fields)).Append(')');
            }

            return builder.ToString();
        }
        catch (JsonException)
        {
            // Not problem+json (a proxy's HTML page, an empty body): the status is all there is to say.
            return $"{status} {(text.Length > 200 ? text[..200] : text)}".Trim();
        }
    }
}
