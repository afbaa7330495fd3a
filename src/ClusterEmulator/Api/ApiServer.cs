using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ArgoHooks.ClusterEmulator.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ArgoHooks.ClusterEmulator.Api;

/// <summary>The emulated kube-apiserver: real REST paths, Status errors, patches, watches, discovery.</summary>
internal sealed class ApiServer : IAsyncDisposable
{
    private readonly ObjectStore _store;
    private readonly AccessTable _access;
    private readonly FaultInjector _faults;
    private readonly RequestLog _log;
    private readonly EmulatorOptions _options;
    private readonly Func<string, string, string?> _podLog;
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;

    public ApiServer(ObjectStore store, AccessTable access, FaultInjector faults, RequestLog log, EmulatorOptions options, Func<string, string, string?> podLog)
    {
        _store = store;
        _access = access;
        _faults = faults;
        _log = log;
        _options = options;
        _podLog = podLog;
    }

    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.AddServerHeader = false;
        });
        _app = builder.Build();
        _app.Run(HandleAsync);
        await _app.StartAsync(cancellationToken);
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address.TrimEnd('/') + "/");
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_app is not null)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _app.StopAsync(timeout.Token);
            await _app.DisposeAsync();
        }
        _stopping.Dispose();
    }

    private sealed record Route(ResourceType Type, string? Namespace, string? Name, string? Subresource);

    private async Task HandleAsync(HttpContext ctx)
    {
        try
        {
            await DispatchAsync(ctx);
        }
        catch (ApiException e) when (!ctx.Response.HasStarted)
        {
            await WriteJsonAsync(ctx, e.Code, e.ToStatus());
        }
        catch (JsonException e) when (!ctx.Response.HasStarted)
        {
            await WriteJsonAsync(ctx, 400, ApiException.BadRequest($"the request body is not valid JSON: {e.Message}").ToStatus());
        }
        catch (YamlDotNet.Core.YamlException e) when (!ctx.Response.HasStarted)
        {
            await WriteJsonAsync(ctx, 400, ApiException.BadRequest($"the request body is not valid YAML: {e.Message}").ToStatus());
        }
        catch (InvalidOperationException e) when (!ctx.Response.HasStarted)
        {
            // A field of the wrong JSON type (e.g. a number where a string belongs) surfaces here.
            await WriteJsonAsync(ctx, 400, ApiException.BadRequest($"the request body has a field of the wrong type: {e.Message}").ToStatus());
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested || _stopping.IsCancellationRequested)
        {
            // The client went away or the emulator is stopping: drop the connection rather than answer.
            ctx.Abort();
        }
    }

    private async Task DispatchAsync(HttpContext ctx)
    {
        var path = ctx.Request.Path.Value ?? "/";
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length == 0) { await WriteJsonAsync(ctx, 200, Discovery.RootPaths()); return; }
        switch (segments[0])
        {
            case "version":
                await WriteJsonAsync(ctx, 200, Discovery.Version());
                return;
            case "healthz" or "readyz" or "livez":
                ctx.Response.ContentType = "text/plain";
                await ctx.Response.WriteAsync("ok", ctx.RequestAborted);
                return;
            case "api" when segments.Length == 1:
                await WriteJsonAsync(ctx, 200, Discovery.CoreVersions(BaseAddress));
                return;
            case "api" when segments.Length == 2:
                await WriteDiscoveryAsync(ctx, "", segments[1]);
                return;
            case "apis" when segments.Length == 1:
                await WriteJsonAsync(ctx, 200, Discovery.GroupList());
                return;
            case "apis" when segments.Length == 2:
            {
                var group = Discovery.Group(segments[1]);
                if (group is null) throw NotFoundPath();
                await WriteJsonAsync(ctx, 200, group);
                return;
            }
            case "apis" when segments.Length == 3:
                await WriteDiscoveryAsync(ctx, segments[1], segments[2]);
                return;
            case "api":
                await HandleResourceAsync(ctx, path, "", segments[1], segments[2..]);
                return;
            case "apis":
                await HandleResourceAsync(ctx, path, segments[1], segments[2], segments[3..]);
                return;
            default:
                throw NotFoundPath();
        }
    }

    private static ApiException NotFoundPath() => new(404, "NotFound", "the server could not find the requested resource", new JsonObject());

    private static async Task WriteDiscoveryAsync(HttpContext ctx, string group, string version)
    {
        var list = Discovery.ResourceList(group, version);
        if (list is null) throw NotFoundPath();
        await WriteJsonAsync(ctx, 200, list);
    }

    private static Route ParseRoute(string group, string version, string[] rest)
    {
        if (rest.Length == 0) throw NotFoundPath();
        ResourceType? type;
        if (rest[0] == "namespaces" && rest.Length >= 3 && ResourceTypes.Find(group, version, rest[2]) is { Namespaced: true } namespacedType)
        {
            if (rest.Length > 5) throw NotFoundPath();
            return new Route(namespacedType, rest[1], rest.Length > 3 ? rest[3] : null, rest.Length > 4 ? rest[4] : null);
        }
        type = ResourceTypes.Find(group, version, rest[0]);
        if (type is null || rest.Length > 3) throw NotFoundPath();
        return new Route(type, null, rest.Length > 1 ? rest[1] : null, rest.Length > 2 ? rest[2] : null);
    }

    private static string VerbOf(string method, Route route, bool watch) => method switch
    {
        "GET" when route.Name is null || (watch && route.Subresource is null) => watch ? "watch" : "list",
        "GET" => "get",
        "POST" => "create",
        "PUT" => "update",
        "PATCH" => "patch",
        "DELETE" => route.Name is null ? "deletecollection" : "delete",
        _ => throw ApiException.MethodNotAllowed($"the server does not allow this method on the requested resource"),
    };

    private async Task HandleResourceAsync(HttpContext ctx, string path, string group, string version, string[] rest)
    {
        var route = ParseRoute(group, version, rest);
        var query = ctx.Request.Query;
        var watch = query["watch"].ToString() is "true" or "1";
        var verb = VerbOf(ctx.Request.Method, route, watch);
        var type = route.Type;
        var resourceKey = route.Subresource is null ? type.Plural : $"{type.Plural}/{route.Subresource}";
        var key = new RequestKey(verb, resourceKey, route.Namespace);
        _log.Record(key);

        if (_options.RequireAuthentication) Authorize(ctx, verb, type, route.Namespace);

        var fault = _faults.Decide(verb, type.Plural, route.Subresource, route.Namespace, path);
        if (fault is not null)
        {
            if (fault.Latency > TimeSpan.Zero) await Task.Delay(fault.Latency, _options.TimeProvider, ctx.RequestAborted);
            if (fault.ResetConnection)
            {
                _log.RecordFault(key);
                ctx.Abort();
                return;
            }
            if (fault.StatusCode is { } code)
            {
                _log.RecordFault(key);
                await WriteInjectedFaultAsync(ctx, code, fault.RetryAfterSeconds, route);
                return;
            }
        }

        if (!type.Verbs.Contains(verb == "watch" ? "watch" : verb))
            throw ApiException.MethodNotAllowed($"the server does not allow this method on the requested resource");
        if (route.Subresource is not null && !(route.Subresource == "status" && type.HasStatusSubresource) && !(route.Subresource == "log" && type == ResourceTypes.Pods && verb == "get"))
            throw NotFoundPath();

        // events.k8s.io/v1 Events are stored as v1 Events and converted on the way in and out.
        var view = type == ResourceTypes.Events ? ResourceTypes.CoreEvents : type;
        Func<JsonObject, JsonObject> toStored = type == ResourceTypes.Events ? EventConversion.ToCore : o => o;
        Func<JsonObject, JsonObject> toClient = type == ResourceTypes.Events ? EventConversion.ToModern : o => o;
        var dryRun = query["dryRun"].ToString() == "All";
        if (query["dryRun"].Count > 0 && !dryRun) throw ApiException.BadRequest($"unsupported dry run value \"{query["dryRun"]}\": only All is supported");
        var fieldManager = query["fieldManager"].ToString() is { Length: > 0 } fm ? fm : DefaultManager(ctx);
        var ns = route.Namespace ?? "";

        switch (verb)
        {
            case "get" when route.Subresource == "log":
            {
                var text = _podLog(ns, route.Name!) ?? throw ApiException.NotFound(type, route.Name!);
                ctx.Response.StatusCode = 200;
                ctx.Response.ContentType = "text/plain";
                await ctx.Response.WriteAsync(text, ctx.RequestAborted);
                return;
            }
            case "get":
            {
                var obj = toClient(_store.Get(view, ns, route.Name!) ?? throw ApiException.NotFound(type, route.Name!));
                if (Tables.Wanted(ctx.Request.Headers.Accept) && Tables.Build(type, [obj], _store.CurrentResourceVersion, _options.TimeProvider.GetUtcNow()) is { } table)
                {
                    await WriteJsonAsync(ctx, 200, table);
                    return;
                }
                await WriteJsonAsync(ctx, 200, obj);
                return;
            }
            case "list":
            {
                var labels = LabelSelector.Parse(query["labelSelector"]);
                var fields = FieldSelector.Parse(type == ResourceTypes.Events ? EventConversion.CoreFieldSelector(query["fieldSelector"]) : query["fieldSelector"].ToString());
                var (stored, rv) = _store.List(view, route.Namespace, labels, fields);
                var items = stored.Select(toClient).ToList();
                var (page, continueToken, remaining) = Paginate(items, query["limit"], query["continue"]);
                if (Tables.Wanted(ctx.Request.Headers.Accept) && Tables.Build(type, page, rv, _options.TimeProvider.GetUtcNow()) is { } table)
                {
                    if (continueToken is not null) Json.Metadata(table)["continue"] = continueToken;
                    await WriteJsonAsync(ctx, 200, table);
                    return;
                }
                var listMeta = new JsonObject { ["resourceVersion"] = rv.ToString() };
                if (continueToken is not null)
                {
                    listMeta["continue"] = continueToken;
                    listMeta["remainingItemCount"] = remaining;
                }
                var list = new JsonObject
                {
                    ["kind"] = type.ListKind,
                    ["apiVersion"] = type.ApiVersion,
                    ["metadata"] = listMeta,
                    ["items"] = new JsonArray(page.Select(i => (JsonNode)i).ToArray()),
                };
                await WriteJsonAsync(ctx, 200, list);
                return;
            }
            case "watch":
                await WatchAsync(ctx, route, view, toClient);
                return;
            case "create":
            {
                if (route.Name is not null) throw ApiException.MethodNotAllowed("the server does not allow this method on the requested resource");
                var body = await ReadObjectAsync(ctx);
                if (ResourceTypes.IsVirtual(type))
                {
                    var review = type == ResourceTypes.TokenReviews ? Reviews.TokenReview(_access, body) : Reviews.SubjectAccessReview(_access, body);
                    await WriteJsonAsync(ctx, 201, review);
                    return;
                }
                if (type.Namespaced)
                {
                    var bodyNs = Json.Str(body, "metadata", "namespace");
                    if (bodyNs is { Length: > 0 } && bodyNs != ns)
                        throw ApiException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
                    Json.Metadata(body)["namespace"] = ns;
                }
                var created = toClient(_store.Create(view, toStored(body), new WriteOptions(fieldManager, dryRun)));
                await WriteJsonAsync(ctx, 201, created);
                return;
            }
            case "update":
            {
                var body = await ReadObjectAsync(ctx);
                var updated = toClient(_store.Replace(view, ns, route.Name!, toStored(body), new WriteOptions(fieldManager, dryRun, route.Subresource)));
                await WriteJsonAsync(ctx, 200, updated);
                return;
            }
            case "patch":
            {
                var result = await PatchAsync(ctx, type, view, toStored, ns, route, fieldManager, dryRun);
                await WriteJsonAsync(ctx, result.Created ? 201 : 200, toClient(result.Object));
                return;
            }
            case "delete":
            {
                string? uid = null, rv = null;
                long? grace = long.TryParse(query["gracePeriodSeconds"], out var g) ? g : null;
                if (ctx.Request.ContentLength is > 0 || ctx.Request.Headers.TransferEncoding.Count > 0)
                {
                    var text = await ReadBodyAsync(ctx);
                    if (text.Trim().Length > 0)
                    {
                        var options = Json.Parse(text);
                        uid = Json.Str(options, "preconditions", "uid");
                        rv = Json.Str(options, "preconditions", "resourceVersion");
                        dryRun |= (options["dryRun"] as JsonArray)?.Any(d => d?.GetValue<string>() == "All") == true;
                        grace ??= Json.Long(options, "gracePeriodSeconds");
                    }
                }
                // A pod's container exits well within its grace period: the emulator's termination takes the shorter of the two.
                TimeSpan? podGrace = grace is { } seconds ? TimeSpan.FromSeconds(seconds) < _store.DefaultPodGracePeriod ? TimeSpan.FromSeconds(seconds) : _store.DefaultPodGracePeriod : null;
                var deleted = toClient(_store.Delete(view, ns, route.Name!, uid, rv, dryRun, podGrace));
                await WriteJsonAsync(ctx, 200, deleted);
                return;
            }
            default:
                throw ApiException.MethodNotAllowed("the server does not allow this method on the requested resource");
        }
    }

    /// <summary>
    /// <c>limit</c>/<c>continue</c> paging over the (namespace/name ordered) result. The token names the last key
    /// returned; unlike etcd the later pages are read from the current state, not from a snapshot.
    /// </summary>
    private static (List<JsonObject> Page, string? Continue, long Remaining) Paginate(List<JsonObject> items, string? limitText, string? continueText)
    {
        var start = 0;
        if (!string.IsNullOrEmpty(continueText))
        {
            string after;
            try
            {
                after = Encoding.UTF8.GetString(Convert.FromBase64String(continueText));
            }
            catch (FormatException)
            {
                throw ApiException.BadRequest("continue key is not valid: illegal base64 data");
            }
            start = items.FindIndex(i => string.CompareOrdinal(ItemKey(i), after) > 0);
            if (start < 0) start = items.Count;
        }
        if (!long.TryParse(limitText, out var limit) || limit <= 0 || start + limit >= items.Count)
            return (items.Skip(start).ToList(), null, 0);
        var page = items.Skip(start).Take((int)limit).ToList();
        var token = Convert.ToBase64String(Encoding.UTF8.GetBytes(ItemKey(page[^1])));
        return (page, token, items.Count - start - page.Count);
    }

    private static string ItemKey(JsonObject item) =>
        $"{Json.Str(item, "metadata", "namespace")}/{Json.Str(item, "metadata", "name")}";

    private static string DefaultManager(HttpContext ctx)
    {
        // The API server names the manager after the client's user agent when no fieldManager is given.
        var agent = ctx.Request.Headers.UserAgent.ToString();
        var slash = agent.IndexOf('/');
        var name = slash > 0 ? agent[..slash] : agent;
        return name.Length > 0 ? name : "unknown";
    }

    private void Authorize(HttpContext ctx, string verb, ResourceType type, string? ns)
    {
        var header = ctx.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
        var (identity, _) = _access.Authenticate(token, null);
        if (identity is null) throw ApiException.Unauthorized();
        if (!_access.IsAllowed(identity.Username, identity.Groups, verb, type.Group, type.Plural, ns))
            throw ApiException.Forbidden(identity.Username, verb, type, ns);
    }

    private static async Task WriteInjectedFaultAsync(HttpContext ctx, int code, int retryAfterSeconds, Route route)
    {
        var (reason, message) = code switch
        {
            429 => ("TooManyRequests", "the server has received too many requests and has asked us to try again later"),
            409 => ("Conflict", $"Operation cannot be fulfilled on {route.Type.GroupResource} \"{route.Name}\": the object has been modified; please apply your changes to the latest version and try again"),
            500 => ("InternalError", "Internal error occurred: injected fault"),
            503 => ("ServiceUnavailable", "the server is currently unable to handle the request"),
            504 => ("Timeout", "the server was unable to return a response in the time allotted, but may still be processing the request"),
            404 => ("NotFound", $"{route.Type.GroupResource} \"{route.Name}\" not found"),
            _ => ("InternalError", $"injected fault {code}"),
        };
        JsonObject? details = null;
        if (code is 429 or 503)
        {
            ctx.Response.Headers.RetryAfter = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            details = new JsonObject { ["retryAfterSeconds"] = retryAfterSeconds };
        }
        else if (route.Name is not null)
        {
            details = new JsonObject { ["name"] = route.Name, ["group"] = route.Type.Group, ["kind"] = route.Type.Plural };
        }
        await WriteJsonAsync(ctx, code, ApiException.StatusObject(code, reason, message, details));
    }

    private sealed record PatchResult(JsonObject Object, bool Created);

    private async Task<PatchResult> PatchAsync(HttpContext ctx, ResourceType type, ResourceType view, Func<JsonObject, JsonObject> toStored, string ns, Route route,
        string fieldManager, bool dryRun)
    {
        // Patches apply to the object as the client sees it (events.k8s.io field names for those Events).
        Func<JsonObject, JsonObject> toClient = type == ResourceTypes.Events ? EventConversion.ToModern : o => o;
        JsonObject Apply(JsonObject stored, Func<JsonObject, JsonObject> patch) => toStored(patch(toClient(stored)));
        var contentType = (ctx.Request.ContentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
        var text = await ReadBodyAsync(ctx);
        var name = route.Name ?? throw ApiException.MethodNotAllowed("the server does not allow this method on the requested resource");
        var options = new WriteOptions(fieldManager, dryRun, route.Subresource);
        switch (contentType)
        {
            case Patches.MergePatch:
            {
                var patch = JsonNode.Parse(text) as JsonObject ?? throw ApiException.BadRequest("a merge patch must be a JSON object");
                return new PatchResult(_store.Modify(view, ns, name, current => Apply(current, c => (JsonObject)Patches.Merge(c, patch)!), options), false);
            }
            case Patches.StrategicMergePatch:
            {
                if (type.IsCustomResource) throw ApiException.UnsupportedMediaType(contentType);
                var patch = JsonNode.Parse(text) as JsonObject ?? throw ApiException.BadRequest("a strategic merge patch must be a JSON object");
                return new PatchResult(_store.Modify(view, ns, name, current => Apply(current, c => (JsonObject)Patches.StrategicMerge(c, patch)!), options), false);
            }
            case Patches.JsonPatch:
            {
                var ops = JsonNode.Parse(text) as JsonArray ?? throw ApiException.BadRequest("a JSON patch must be a JSON array of operations");
                return new PatchResult(_store.Modify(view, ns, name, current => Apply(current, c =>
                    Patches.ApplyJsonPatch(c, ops, message => new ApiException(422, "Invalid", $"the server rejected our request due to an error in our request: {message}")) as JsonObject
                        ?? throw ApiException.BadRequest("the JSON patch did not produce an object")), options), false);
            }
            case Patches.ApplyPatch:
            {
                if (string.IsNullOrEmpty(ctx.Request.Query["fieldManager"]))
                    throw ApiException.BadRequest("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch");
                var applied = YamlJson.ParseSingle(text);
                var applyOptions = options with { Operation = "Apply" };
                if (_store.Get(view, ns, name) is null)
                {
                    Json.Metadata(applied)["name"] = name;
                    if (type.Namespaced) Json.Metadata(applied)["namespace"] = ns;
                    return new PatchResult(_store.Create(view, toStored(applied), applyOptions), true);
                }
                return new PatchResult(_store.Modify(view, ns, name, current => Apply(current, c => (JsonObject)Patches.Merge(c, applied)!), applyOptions), false);
            }
            default:
                throw ApiException.UnsupportedMediaType(contentType);
        }
    }

    private async Task WatchAsync(HttpContext ctx, Route route, ResourceType view, Func<JsonObject, JsonObject> toClient)
    {
        var query = ctx.Request.Query;
        var labels = LabelSelector.Parse(query["labelSelector"]);
        // The deprecated watch on a named object is a watch filtered on its name.
        var fieldText = route.Name is null ? query["fieldSelector"].ToString() : $"metadata.name={route.Name}";
        var fields = FieldSelector.Parse(route.Type == ResourceTypes.Events ? EventConversion.CoreFieldSelector(fieldText) : fieldText);
        var rvText = query["resourceVersion"].ToString();
        long? since = null;
        if (rvText.Length > 0 && rvText != "0")
        {
            if (!long.TryParse(rvText, out var parsed) || parsed < 0)
                throw new ApiException(400, "BadRequest", $"resourceVersion: Invalid value: \"{rvText}\": must be a number");
            since = parsed;
        }
        var bookmarks = query["allowWatchBookmarks"].ToString() is "true" or "1";
        TimeSpan? timeout = int.TryParse(query["timeoutSeconds"], out var seconds) && seconds > 0 ? TimeSpan.FromSeconds(seconds) : null;

        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        WatchSubscription subscription;
        try
        {
            subscription = _store.Watch(view, route.Namespace, labels, fields, since);
        }
        catch (ApiException gone) when (gone.Code == 410)
        {
            // Like the real server: a watch from a compacted resourceVersion is a 200 stream with one ERROR event.
            await WriteLineAsync(ctx, new JsonObject { ["type"] = "ERROR", ["object"] = gone.ToStatus() }, ctx.RequestAborted);
            return;
        }

        using (subscription)
        {
            using var timeoutCts = timeout is { } t ? new CancellationTokenSource(t, _options.TimeProvider) : new CancellationTokenSource();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, subscription.CutToken, timeoutCts.Token, _stopping.Token);
            await ctx.Response.StartAsync(linked.Token);
            await ctx.Response.Body.FlushAsync(linked.Token);
            using var bookmarkTimer = bookmarks
                ? _options.TimeProvider.CreateTimer(_ => _store.Bookmark(subscription), null, _options.WatchBookmarkInterval, _options.WatchBookmarkInterval)
                : null;
            try
            {
                await foreach (var item in subscription.Items.ReadAllAsync(linked.Token))
                {
                    await WriteLineAsync(ctx, new JsonObject { ["type"] = item.Type, ["object"] = toClient(Json.Clone(item.Object)) }, linked.Token);
                }
            }
            catch (OperationCanceledException) when (linked.IsCancellationRequested)
            {
                if (subscription.CutToken.IsCancellationRequested) ctx.Abort();
                // A timeout ends the stream cleanly; a disconnect or shutdown needs nothing more.
            }
        }
    }

    private static async Task WriteLineAsync(HttpContext ctx, JsonObject line, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(Json.Serialize(line) + "\n");
        await ctx.Response.Body.WriteAsync(bytes, cancellationToken);
        await ctx.Response.Body.FlushAsync(cancellationToken);
    }

    private static async Task<string> ReadBodyAsync(HttpContext ctx)
    {
        using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8);
        return await reader.ReadToEndAsync(ctx.RequestAborted);
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpContext ctx)
    {
        var text = await ReadBodyAsync(ctx);
        if (string.IsNullOrWhiteSpace(text)) throw ApiException.BadRequest("the request body is empty");
        var contentType = (ctx.Request.ContentType ?? "application/json").Split(';')[0].Trim().ToLowerInvariant();
        return contentType.Contains("yaml") ? YamlJson.ParseSingle(text) : Json.Parse(text);
    }

    internal static async Task WriteJsonAsync(HttpContext ctx, int code, JsonNode body)
    {
        ctx.Response.StatusCode = code;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(Json.Serialize(body), ctx.RequestAborted);
    }
}
