using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ArgoHooks.HookService.Runs;

namespace ArgoHooks.HookService.Tests.Fakes;

/// <summary>Small helpers for calling the run API in tests.</summary>
public static class Api
{
    public static HttpRequestMessage Post(string json, string? token = FakeAuthorizer.Good, string? contentType = "application/json") =>
        Post(Encoding.UTF8.GetBytes(json), token, contentType);

    public static HttpRequestMessage Post(byte[] body, string? token, string? contentType)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/runs") { Content = new ByteArrayContent(body) };
        if (contentType is not null)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }

    public static HttpRequestMessage Get(string path, string? token = FakeAuthorizer.Good)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }

    public static async Task<RunView> ReadRunAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<RunView>(JsonSerializerOptions.Web, TestContext.Current.CancellationToken))!;

    /// <summary>Long-polls until the run is no longer Running.</summary>
    public static async Task<RunView> WaitFinishedAsync(HttpClient client, string id, string token = FakeAuthorizer.Good)
    {
        var ct = TestContext.Current.CancellationToken;
        long version = -1;
        while (true)
        {
            using var response = await client.SendAsync(Get($"v1/runs/{id}?waitSeconds=30" + (version >= 0 ? $"&after={version}" : ""), token), ct);
            response.EnsureSuccessStatusCode();
            var run = await ReadRunAsync(response);
            if (run.State != RunStates.Running)
            {
                return run;
            }

            version = run.Version;
        }
    }

    public static async Task<JsonElement> ReadProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        return document.RootElement.Clone();
    }
}
