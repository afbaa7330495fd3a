using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace ArgoHooks.Demo.Reliability;

/// <summary>A caller of the hook service's run API (POST /v1/runs, GET /v1/runs/{id}) with the caller's token file.</summary>
public sealed class RunClient(Uri service, string tokenFile) : IDisposable
{
    private readonly HttpClient http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };

    private async Task<string> TokenAsync(CancellationToken cancellationToken) => (await File.ReadAllTextAsync(tokenFile, cancellationToken)).Trim();

    /// <summary>POST /v1/runs; returns the status code.</summary>
    public async Task<int> PostRunAsync(string @namespace, string runId, IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["namespace"] = @namespace,
            ["inferenceServices"] = new JsonArray([.. names.Select(name => (JsonNode)JsonValue.Create(name))]),
            ["runId"] = runId,
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(service, "v1/runs"))
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(cancellationToken));
        using var response = await http.SendAsync(request, cancellationToken);
        return (int)response.StatusCode;
    }

    /// <summary>GET /v1/runs/{id} (no wait): status code and the run's state (null when not 200).</summary>
    public async Task<(int StatusCode, string? State)> GetRunAsync(string runId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(service, $"v1/runs/{runId}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(cancellationToken));
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return ((int)response.StatusCode, null);
        }

        var run = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return ((int)response.StatusCode, run?["state"]?.GetValue<string>());
    }

    public void Dispose() => http.Dispose();
}
