using System.Globalization;
using ArgoHooks.HookService.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace ArgoHooks.HookService.Runs;

/// <summary>
/// POST /v1/runs, GET /v1/runs/{id}?waitSeconds=N&amp;after=V (long-poll), GET /v1/runs?namespace=NS.
/// Order of checks: the request's shape (it reveals nothing about the cluster) → the caller (TokenReview +
/// SubjectAccessReview for the namespace) → only then the registry and the cluster.
/// </summary>
public static class RunEndpoints
{
    public const int MaxBodyBytes = 64 * 1024;

    public static RouteGroupBuilder MapRunEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/runs");
        group.MapPost("", CreateAsync);
        group.MapGet("", ListAsync);
        group.MapGet("{id}", GetAsync);
        return group;
    }

    private static async Task<IResult> CreateAsync(
        HttpContext http, RunRegistry registry, ICallerAuthorizer authorizer, CancellationToken cancellationToken)
    {
        if (!IsJson(http.Request.ContentType))
        {
            return Problems.Field(StatusCodes.Status415UnsupportedMediaType, "Unsupported content type",
                "Send the run request as JSON with Content-Type: application/json.",
                "Content-Type", $"\"{http.Request.ContentType}\" is not application/json.");
        }

        var body = await ReadBoundedAsync(http.Request, cancellationToken);
        if (body is null)
        {
            return Problems.Field(StatusCodes.Status413PayloadTooLarge, "Request body too large",
                $"A run request is at most {MaxBodyBytes / 1024} KiB; split large runs into several.",
                "body", $"The body is larger than {MaxBodyBytes} bytes.");
        }

        var parsed = RunRequestReader.Parse(body.Value);
        if (parsed.Request is not { } request)
        {
            return Results.ValidationProblem(parsed.Errors,
                title: "The run request is not valid",
                detail: "Fix the fields listed in errors and send the request again; nothing was changed.");
        }

        var (caller, unavailable) = await AuthorizeAsync(authorizer, BearerToken(http.Request), request.Namespace, cancellationToken);
        if (caller is null || caller.Verdict != CallerVerdict.Allowed)
        {
            return unavailable ?? Problems.Caller(http, caller!);
        }

        var started = registry.Start(request);
        return started.Outcome switch
        {
            StartOutcome.Created => Results.Accepted($"/v1/runs/{started.Run!.Id}", started.Run.View()),
            StartOutcome.Existing => Results.Ok(started.Run!.View()),
            StartOutcome.Conflict => Problems.Field(StatusCodes.Status409Conflict, "The runId is already used",
                "Repeat the original request to follow that run, or use a new runId for a different request; nothing was changed.",
                "runId", $"The run {request.RunId} exists with a different namespace, InferenceService list or artifact timeout."),
            _ => Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The hook service is stopping",
                detail: "Send the same request again in a few seconds; the next instance resumes the run."),
        };
    }

    private static async Task<IResult> GetAsync(
        string id, HttpContext http, RunRegistry registry, ICallerAuthorizer authorizer,
        IOptionsMonitor<RunOptions> options, TimeProvider time, IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!RunRequestReader.IsRunId(id))
        {
            errors["id"] = ["A run id has lowercase letters, digits and '-' only, at most 63."];
        }

        var maxWait = options.CurrentValue.MaxWaitSeconds;
        var waitSeconds = QueryInteger(http.Request, "waitSeconds", 0, maxWait, errors) ?? 0;
        var after = QueryInteger(http.Request, "after", 0, long.MaxValue, errors);
        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors, title: "The request is not valid",
                detail: $"Fix the listed parameters; waitSeconds is a whole number from 0 to {maxWait}, after a run version.");
        }

        var run = registry.Find(id);
        var token = BearerToken(http.Request);

        // An unknown run and a run the caller may not see answer the same 404; only a caller without a valid
        // token gets 401 in both cases (the authorizer checks the token before the namespace).
        var (caller, unavailable) = await AuthorizeAsync(authorizer, token, run?.Namespace ?? "default", cancellationToken);
        if (caller is null || caller.Verdict == CallerVerdict.Unauthenticated)
        {
            return unavailable ?? Problems.Caller(http, caller!);
        }

        if (run is null || caller.Verdict != CallerVerdict.Allowed)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such run",
                detail: "This hook service instance knows no run with this id that you may see; POST the run request again with the same runId to start or resume it.");
        }

        if (waitSeconds > 0)
        {
            // A stopping service answers long-polls at once instead of holding its shutdown for waitSeconds.
            using var waitEnds = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
            try
            {
                await run.WaitForChangeAsync(after ?? run.View().Version, TimeSpan.FromSeconds(waitSeconds), time, waitEnds.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                http.Response.Headers.RetryAfter = "1";
            }
        }

        return Results.Ok(run.View());
    }

    private static async Task<IResult> ListAsync(
        HttpContext http, RunRegistry registry, ICallerAuthorizer authorizer, CancellationToken cancellationToken)
    {
        var @namespace = http.Request.Query["namespace"];
        if (@namespace.Count != 1 || !RunRequestReader.IsDns1123Label(@namespace[0]))
        {
            return Problems.Field(StatusCodes.Status400BadRequest, "The request is not valid",
                "Name one namespace, e.g. GET /v1/runs?namespace=my-namespace.", "namespace", "Exactly one namespace (DNS-1123 label) is required.");
        }

        var (caller, unavailable) = await AuthorizeAsync(authorizer, BearerToken(http.Request), @namespace[0]!, cancellationToken);
        if (caller is null || caller.Verdict != CallerVerdict.Allowed)
        {
            return unavailable ?? Problems.Caller(http, caller!);
        }

        var runs = registry.List(@namespace[0]!)
            .Select(run => run.View())
            .Select(view => new { view.Id, view.Namespace, view.State, view.StartedAt, view.FinishedAt, InferenceServices = view.InferenceServices.Select(item => item.Name) });
        return Results.Ok(new { runs });
    }

    /// <returns>The verdict, or (when the API server cannot be asked) a 503 problem: the caller should retry.</returns>
    private static async Task<(CallerAuthorization? Caller, IResult? Unavailable)> AuthorizeAsync(
        ICallerAuthorizer authorizer, string? token, string @namespace, CancellationToken cancellationToken)
    {
        try
        {
            return (await authorizer.AuthorizeAsync(token, @namespace, cancellationToken), null);
        }
        catch (CallerAuthorizationUnavailableException unavailable)
        {
            return (null, Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The caller cannot be checked right now",
                detail: $"{unavailable.Message} Send the request again shortly; nothing was changed."));
        }
    }

    private static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
        && mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
        && (mediaType.Charset.Length == 0 || mediaType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));

    /// <returns>The body, or null when it is larger than <see cref="MaxBodyBytes"/>.</returns>
    private static async Task<ReadOnlyMemory<byte>?> ReadBoundedAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return null;
        }

        var buffer = new byte[MaxBodyBytes + 1];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0)
            {
                return buffer.AsMemory(0, length);
            }

            length += read;
        }

        return null;
    }

    private static string? BearerToken(HttpRequest request)
    {
        var headers = request.Headers.Authorization;
        if (headers.Count != 1 || headers[0] is not { } value || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var token = value["Bearer ".Length..].Trim();
        return token.Length == 0 ? null : token;
    }

    private static long? QueryInteger(HttpRequest request, string name, long min, long max, Dictionary<string, string[]> errors)
    {
        var values = request.Query[name];
        if (values.Count == 0)
        {
            return null;
        }

        if (values.Count > 1 || !long.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < min || number > max)
        {
            errors[name] = [$"Expected one whole number from {min} to {max}."];
            return null;
        }

        return number;
    }
}

/// <summary>RFC 7807 answers shared by the endpoints.</summary>
public static class Problems
{
    public static ProblemHttpResult Field(int status, string title, string detail, string field, string error) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail,
            extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [field] = [error] } });

    public static IResult Caller(HttpContext http, CallerAuthorization caller)
    {
        if (caller.Verdict == CallerVerdict.Unauthenticated)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Field(StatusCodes.Status401Unauthorized, "Authentication required",
                $"{caller.Reason} Send Authorization: Bearer <ServiceAccount token> with the audience the hook service expects.",
                "Authorization", "Missing or not accepted bearer token.");
        }

        return Field(StatusCodes.Status403Forbidden, "Not allowed",
            $"{caller.Reason} The caller needs permission to patch inferenceservices.serving.kserve.io in this namespace.",
            "namespace", "The caller may not act on InferenceServices in this namespace.");
    }
}
