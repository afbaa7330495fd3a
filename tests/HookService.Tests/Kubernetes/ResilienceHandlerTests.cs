using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using ArgoHooks.HookService.Kubernetes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace ArgoHooks.HookService.Tests.Kubernetes;

public class ResilienceHandlerTests
{
    private static KubernetesOptions FastOptions() => new()
    {
        RetryBaseDelay = TimeSpan.FromMilliseconds(1),
        MaxRetryAfter = TimeSpan.FromMilliseconds(20),
        RequestTimeout = TimeSpan.FromMilliseconds(300),
        OperationTimeout = TimeSpan.FromSeconds(10),
        MaxRetries = 4,
    };

    private static (HttpClient Client, KubernetesApiMetrics Metrics) Client(HttpMessageHandler inner, KubernetesOptions? options = null)
    {
        var metrics = new KubernetesApiMetrics();
        var pipeline = new KubernetesResiliencePipeline(Options.Create(options ?? FastOptions()), metrics, TimeProvider.System);
        var handler = new KubernetesResilienceHandler(pipeline, metrics) { InnerHandler = inner };
        return (new HttpClient(handler), metrics);
    }

    private sealed class ScriptedHandler(Func<int, HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> answer) : HttpMessageHandler
    {
        private int attempts;

        public int Attempts => Volatile.Read(ref attempts);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            answer(Interlocked.Increment(ref attempts), request, cancellationToken);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(504)]
    [InlineData(429)]
    public async Task Transient_status_is_retried_until_success(int status)
    {
        var inner = new ScriptedHandler((attempt, _, _) => Task.FromResult(new HttpResponseMessage(attempt < 3 ? (HttpStatusCode)status : HttpStatusCode.OK)));
        var (client, metrics) = Client(inner);

        using var response = await client.GetAsync("http://127.0.0.1:1/api/v1/namespaces/a/pods", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, inner.Attempts);
        Assert.Equal(2, metrics.RetryTotal);
        Assert.Equal(2, metrics.ErrorTotal);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(403)]
    [InlineData(404)]
    [InlineData(409)]
    [InlineData(422)]
    public async Task Client_errors_are_not_retried(int status)
    {
        var inner = new ScriptedHandler((_, _, _) => Task.FromResult(new HttpResponseMessage((HttpStatusCode)status)));
        var (client, metrics) = Client(inner);

        using var response = await client.GetAsync("http://127.0.0.1:1/api/v1/namespaces/a/pods/p", TestContext.Current.CancellationToken);

        Assert.Equal((HttpStatusCode)status, response.StatusCode);
        Assert.Equal(1, inner.Attempts);
        Assert.Equal(0, metrics.RetryTotal);
    }

    [Fact]
    public async Task Connection_errors_are_retried()
    {
        var inner = new ScriptedHandler((attempt, _, _) => attempt switch
        {
            1 => throw new HttpRequestException("connection refused"),
            2 => throw new IOException("connection reset by peer"),
            _ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)),
        });
        var (client, metrics) = Client(inner);

        using var response = await client.GetAsync("http://127.0.0.1:1/apis/apps/v1/namespaces/a/deployments", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, inner.Attempts);
        Assert.Equal(2, metrics.RetryTotal);
    }

    [Fact]
    public async Task Gives_up_after_max_retries_with_the_last_answer()
    {
        var inner = new ScriptedHandler((_, _, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)));
        var (client, _) = Client(inner);

        using var response = await client.GetAsync("http://127.0.0.1:1/api/v1/pods", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(5, inner.Attempts); // first attempt + MaxRetries (4)
    }

    [Fact]
    public async Task A_hanging_attempt_is_cut_by_the_attempt_timeout_and_retried()
    {
        var inner = new ScriptedHandler(async (attempt, _, cancellationToken) =>
        {
            if (attempt == 1)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            }

            return new HttpResponseMessage(HttpStatusCode.OK);
        });
        var (client, metrics) = Client(inner);

        using var response = await client.GetAsync("http://127.0.0.1:1/api/v1/namespaces/a/pods", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, inner.Attempts);
        Assert.Equal(1, metrics.RetryTotal);
    }

    [Fact]
    public async Task Watch_requests_are_neither_retried_nor_timed_out()
    {
        var inner = new ScriptedHandler(async (attempt, _, cancellationToken) =>
        {
            // Longer than the 300 ms attempt timeout: a watch must not be cut.
            await Task.Delay(TimeSpan.FromMilliseconds(600), cancellationToken);
            return new HttpResponseMessage(attempt == 1 ? HttpStatusCode.OK : HttpStatusCode.InternalServerError);
        });
        var (client, metrics) = Client(inner);

        using var first = await client.GetAsync("http://127.0.0.1:1/apis/apps/v1/namespaces/a/deployments?fieldSelector=metadata.name%3Dx&watch=true", TestContext.Current.CancellationToken);
        using var second = await client.GetAsync("http://127.0.0.1:1/apis/apps/v1/namespaces/a/deployments?watch=true", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, second.StatusCode);
        Assert.Equal(2, inner.Attempts);
        Assert.Equal(0, metrics.RetryTotal);
        Assert.Equal(1, metrics.ErrorTotal);
    }

    [Fact]
    public async Task Caller_cancellation_is_not_retried()
    {
        var inner = new ScriptedHandler(async (_, _, cancellationToken) =>
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            return new HttpResponseMessage(HttpStatusCode.OK);
        });
        var (client, _) = Client(inner, new KubernetesOptions { RequestTimeout = TimeSpan.FromSeconds(30), OperationTimeout = TimeSpan.FromSeconds(30), RetryBaseDelay = TimeSpan.FromMilliseconds(1) });
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetAsync("http://127.0.0.1:1/api/v1/pods", cancel.Token));
        Assert.Equal(1, inner.Attempts);
    }

    [Fact]
    public void Retry_after_seconds_and_dates_are_honoured_and_capped()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var cap = TimeSpan.FromSeconds(30);
        using var seconds = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        seconds.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(2));
        using var date = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        date.Headers.RetryAfter = new RetryConditionHeaderValue(clock.GetUtcNow().AddSeconds(5));
        using var huge = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        huge.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromHours(1));
        using var none = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);

        Assert.Equal(TimeSpan.FromSeconds(2), KubernetesResiliencePipeline.RetryAfter(seconds, cap, clock));
        Assert.Equal(TimeSpan.FromSeconds(5), KubernetesResiliencePipeline.RetryAfter(date, cap, clock));
        Assert.Equal(cap, KubernetesResiliencePipeline.RetryAfter(huge, cap, clock));
        Assert.Null(KubernetesResiliencePipeline.RetryAfter(none, cap, clock));
    }

    [Fact]
    public async Task Retry_after_delays_the_retry_on_the_injected_clock()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var inner = new ScriptedHandler((attempt, _, _) =>
        {
            var response = new HttpResponseMessage(attempt == 1 ? HttpStatusCode.TooManyRequests : HttpStatusCode.OK);
            if (attempt == 1)
            {
                response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(3));
            }

            return Task.FromResult(response);
        });
        var options = new KubernetesOptions { MaxRetryAfter = TimeSpan.FromSeconds(10), RequestTimeout = TimeSpan.FromMinutes(1), OperationTimeout = TimeSpan.FromMinutes(5) };
        var metrics = new KubernetesApiMetrics();
        var handler = new KubernetesResilienceHandler(new KubernetesResiliencePipeline(Options.Create(options), metrics, clock), metrics) { InnerHandler = inner };
        using var client = new HttpClient(handler);

        var pending = client.GetAsync("http://127.0.0.1:1/api/v1/pods", TestContext.Current.CancellationToken);
        await WaitUntilAsync(() => inner.Attempts == 1);
        clock.Advance(TimeSpan.FromSeconds(2.9));
        await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.False(pending.IsCompleted, "the retry must wait for Retry-After");
        clock.Advance(TimeSpan.FromSeconds(0.2));
        using var response = await pending;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, inner.Attempts);
    }

    [Fact]
    public async Task Retried_writes_resend_their_body_over_a_real_connection()
    {
        var bodies = new ConcurrentQueue<string>();
        var calls = 0;
        await using var server = await LoopbackServer.StartAsync(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            bodies.Enqueue(await reader.ReadToEndAsync());
            context.Response.StatusCode = Interlocked.Increment(ref calls) == 1 ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
            await context.Response.WriteAsync("{}");
        });
        var (client, _) = Client(new SocketsHttpHandler());
        using var request = new HttpRequestMessage(HttpMethod.Patch, new Uri(server.BaseAddress, "apis/serving.kserve.io/v1beta1/namespaces/a/inferenceservices/x"))
        {
            Content = new StringContent("{\"metadata\":{\"annotations\":{\"a\":\"b\"}}}", System.Text.Encoding.UTF8, "application/merge-patch+json"),
        };

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["{\"metadata\":{\"annotations\":{\"a\":\"b\"}}}", "{\"metadata\":{\"annotations\":{\"a\":\"b\"}}}"], bodies.ToArray());
    }

    [Theory]
    [InlineData("http://h/api/v1/namespaces/a/pods/p-1", "pods")]
    [InlineData("http://h/api/v1/namespaces/a/pods", "pods")]
    [InlineData("http://h/apis/serving.kserve.io/v1beta1/namespaces/a/inferenceservices/m/status", "inferenceservices/status")]
    [InlineData("http://h/apis/authentication.k8s.io/v1/tokenreviews", "tokenreviews")]
    [InlineData("http://h/api/v1/namespaces", "namespaces")]
    [InlineData("http://h/api/v1/namespaces/a", "namespaces")]
    [InlineData("http://h/version", "unknown")]
    public void Metric_labels_name_the_resource_only(string uri, string resource) => Assert.Equal(resource, KubernetesApiMetrics.ResourceOf(new Uri(uri)));

    [Theory]
    [InlineData("http://h/api/v1/pods?watch=true", true)]
    [InlineData("http://h/api/v1/pods?labelSelector=a%3Db&watch=1", true)]
    [InlineData("http://h/api/v1/pods?watch=false", false)]
    [InlineData("http://h/api/v1/pods", false)]
    [InlineData("http://h/api/v1/namespaces/watch/pods", false)]
    public void Watch_detection(string uri, bool watch) => Assert.Equal(watch, KubernetesResilienceHandler.IsWatch(new Uri(uri)));

    internal static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        Assert.True(condition(), "condition not reached");
    }
}
