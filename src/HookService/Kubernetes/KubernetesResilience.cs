using System.Net;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace ArgoHooks.HookService.Kubernetes;

/// <summary>
/// The one resilience pipeline every Kubernetes API call goes through (as a DelegatingHandler of the client's
/// HttpClient): overall timeout → retry (429, 5xx, connection errors, attempt timeouts; jittered exponential
/// backoff, Retry-After honoured) → per-attempt timeout. Watch requests bypass it entirely, because a timeout or
/// a retry would cut a long-lived stream; the rollout watcher resumes its watches itself.
/// </summary>
public sealed class KubernetesResiliencePipeline
{
    public KubernetesResiliencePipeline(IOptions<KubernetesOptions> options, KubernetesApiMetrics metrics, TimeProvider timeProvider)
    {
        var settings = options.Value;
        Pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = timeProvider }
            .AddTimeout(settings.OperationTimeout)
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = settings.MaxRetries,
                Delay = settings.RetryBaseDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                MaxDelay = settings.MaxRetryAfter,
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()
                    .Handle<IOException>()
                    .Handle<TimeoutRejectedException>()
                    .HandleResult(response => IsTransient(response.StatusCode)),
                DelayGenerator = arguments => ValueTask.FromResult(RetryAfter(arguments.Outcome.Result, settings.MaxRetryAfter, timeProvider)),
                OnRetry = arguments =>
                {
                    var request = arguments.Context.Properties.GetValue(RequestKey, null!);
                    metrics.Retry(request?.Method.Method ?? "?", request?.RequestUri, Describe(arguments.Outcome));
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(settings.RequestTimeout)
            .Build();
    }

    internal static readonly ResiliencePropertyKey<HttpRequestMessage> RequestKey = new("argohooks.http-request");

    public ResiliencePipeline<HttpResponseMessage> Pipeline { get; }

    public static bool IsTransient(HttpStatusCode status) =>
        status == HttpStatusCode.TooManyRequests || (int)status >= 500 && status != HttpStatusCode.NotImplemented && status != HttpStatusCode.HttpVersionNotSupported;

    /// <summary>The server's Retry-After (seconds or a date), capped; null lets the jittered backoff decide.</summary>
    internal static TimeSpan? RetryAfter(HttpResponseMessage? response, TimeSpan cap, TimeProvider timeProvider)
    {
        var header = response?.Headers.RetryAfter;
        if (header is null)
        {
            return null;
        }

        var delay = header.Delta ?? (header.Date is { } date ? date - timeProvider.GetUtcNow() : null);
        if (delay is null)
        {
            return null;
        }

        return delay < TimeSpan.Zero ? TimeSpan.Zero : delay > cap ? cap : delay;
    }

    internal static string Describe(Outcome<HttpResponseMessage> outcome) => outcome.Exception switch
    {
        null => ((int)outcome.Result!.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture),
        TimeoutRejectedException => "timeout",
        _ => "transport",
    };
}

/// <summary>Runs every non-watch request of the Kubernetes client through <see cref="KubernetesResiliencePipeline"/>.</summary>
public sealed class KubernetesResilienceHandler(KubernetesResiliencePipeline resilience, KubernetesApiMetrics metrics) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (IsWatch(request.RequestUri))
        {
            // A watch is a stream that may legitimately stay open for minutes: no timeout, no retry, no buffering.
            return await AttemptAsync(request, bufferBody: false, cancellationToken, cancellationToken);
        }

        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(KubernetesResiliencePipeline.RequestKey, request);
        try
        {
            return await resilience.Pipeline.ExecuteAsync(
                attemptContext => new ValueTask<HttpResponseMessage>(AttemptAsync(request, bufferBody: true, attemptContext.CancellationToken, cancellationToken)),
                context);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>One attempt; counts it as an API error when it fails (404 is an answer, not an error).</summary>
    private async Task<HttpResponseMessage> AttemptAsync(HttpRequestMessage request, bool bufferBody, CancellationToken attemptToken, CancellationToken callerToken)
    {
        HttpResponseMessage? response = null;
        try
        {
            response = await base.SendAsync(request, attemptToken);
            if (bufferBody)
            {
                // Read the body inside the attempt so the per-attempt timeout and the retry cover it too.
                await response.Content.LoadIntoBufferAsync(attemptToken);
            }
        }
        catch (Exception error) when (error is HttpRequestException or IOException || (error is OperationCanceledException && !callerToken.IsCancellationRequested))
        {
            response?.Dispose();
            metrics.ApiError(request.Method.Method, request.RequestUri, null);
            throw;
        }

        if ((int)response.StatusCode >= 400 && response.StatusCode != HttpStatusCode.NotFound)
        {
            metrics.ApiError(request.Method.Method, request.RequestUri, (int)response.StatusCode);
        }

        return response;
    }

    internal static bool IsWatch(Uri? uri)
    {
        var query = uri?.Query;
        if (string.IsNullOrEmpty(query))
        {
            return false;
        }

        foreach (var part in query.TrimStart('?').Split('&'))
        {
            if (part.Equals("watch=true", StringComparison.OrdinalIgnoreCase) || part.Equals("watch=1", StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
