using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ArgoHooks.ClusterEmulator;

/// <summary>Lifecycle of a simulated kserve-container.</summary>
public enum ModelServerState
{
    /// <summary>Container not started yet (image pull, Python start-up): connections are refused, the pod is not Ready.</summary>
    Starting,

    /// <summary>Listening (with or without a model): the pod is Ready, because the real readiness probe is TCP only.</summary>
    Running,

    /// <summary>The server exited while loading its model; the kubelet restarts it after the back-off.</summary>
    CrashLoopBackOff,

    /// <summary>The pod is gone.</summary>
    Stopped,
}

/// <summary>
/// A pod's model server: a real HTTP server on 127.0.0.1 that behaves like the KServe sklearn server. After the
/// start-up delay it looks once for exactly one <c>*.pkl|*.pickle|*.joblib</c> directly in its model folder and never
/// looks again. No file: it serves with zero models (every model request 404). Two files, an empty file or a file whose
/// content begins with <c>CORRUPT</c>: it exits (the pod crash-loops, looking again at every restart).
/// </summary>
public sealed class SimulatedModelServer : IAsyncDisposable
{
    private static readonly string[] ModelExtensions = [".pkl", ".pickle", ".joblib"];
    private readonly object _gate = new();
    private readonly List<string> _log = [];
    private WebApplication? _app;

    private SimulatedModelServer(string @namespace, string podName, string modelName, string? modelPath, string? storageUri, DateTimeOffset createdAt, TimeSpan startupDelay)
    {
        Namespace = @namespace;
        PodName = podName;
        ModelName = modelName;
        ModelPath = modelPath;
        StorageUri = storageUri;
        CreatedAt = createdAt;
        NextTransitionAt = createdAt + startupDelay;
    }

    public string Namespace { get; }
    public string PodName { get; }
    public string ModelName { get; }

    /// <summary>Local folder (or file) the storageUri maps to; null when the storageUri is not <c>pvc://</c>.</summary>
    public string? ModelPath { get; }

    public string? StorageUri { get; }
    public int Port { get; private set; }
    public DateTimeOffset CreatedAt { get; }

    public ModelServerState State { get { lock (_gate) return _state; } }

    /// <summary>When the current container started and looked for its model.</summary>
    public DateTimeOffset? StartedAt { get { lock (_gate) return _startedAt; } }

    public bool ModelLoaded { get { lock (_gate) return _loadedFile is not null; } }

    public string? LoadedModelFile { get { lock (_gate) return _loadedFile; } }

    /// <summary><c>sha256:&lt;hex&gt;</c> of the file the server loaded, or null.</summary>
    public string? LoadedModelDigest { get { lock (_gate) return _loadedDigest; } }

    public int RestartCount { get { lock (_gate) return _restartCount; } }

    public string? LastError { get { lock (_gate) return _lastError; } }

    public DateTimeOffset? LastTerminatedAt { get { lock (_gate) return _lastTerminatedAt; } }

    public DateTimeOffset? LastTerminatedStartedAt { get { lock (_gate) return _lastTerminatedStartedAt; } }

    public string LogText { get { lock (_gate) return string.Join('\n', _log) + (_log.Count > 0 ? "\n" : ""); } }

    internal DateTimeOffset NextTransitionAt { get; private set; }

    private ModelServerState _state = ModelServerState.Starting;
    private DateTimeOffset? _startedAt;
    private string? _loadedFile;
    private string? _loadedDigest;
    private int _restartCount;
    private string? _lastError;
    private DateTimeOffset? _lastTerminatedAt;
    private DateTimeOffset? _lastTerminatedStartedAt;

    internal static async Task<SimulatedModelServer> StartAsync(string ns, string podName, string modelName, string? modelPath, string? storageUri,
        DateTimeOffset now, TimeSpan startupDelay, CancellationToken cancellationToken)
    {
        var server = new SimulatedModelServer(ns, podName, modelName, modelPath, storageUri, now, startupDelay);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.AddServerHeader = false;
        });
        server._app = builder.Build();
        server._app.Run(server.HandleAsync);
        await server._app.StartAsync(cancellationToken);
        var address = server._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Port = new Uri(address).Port;
        return server;
    }

    /// <summary>Advances the container state machine; returns true when something changed.</summary>
    internal bool Tick(DateTimeOffset now, TimeSpan crashLoopBackOff)
    {
        lock (_gate)
        {
            if (_state is ModelServerState.Stopped or ModelServerState.Running || now < NextTransitionAt) return false;
            if (_state == ModelServerState.CrashLoopBackOff) _restartCount++;
            StartContainer(now, crashLoopBackOff);
            return true;
        }
    }

    private void StartContainer(DateTimeOffset now, TimeSpan crashLoopBackOff)
    {
        _startedAt = now;
        _log.Add($"{Stamp(now)} kserve.trace Starting sklearn model server for model {ModelName} (model_dir=/mnt/models)");
        var (file, error) = LocateModel();
        if (error is not null)
        {
            _log.Add($"{Stamp(now)} kserve ERROR {error}");
            _state = ModelServerState.CrashLoopBackOff;
            _lastError = error;
            _lastTerminatedStartedAt = now;
            _lastTerminatedAt = now;
            _loadedFile = null;
            _loadedDigest = null;
            NextTransitionAt = now + crashLoopBackOff;
            return;
        }
        _state = ModelServerState.Running;
        if (file is null)
        {
            _log.Add($"{Stamp(now)} kserve WARNING failed to locate model file for model {ModelName} under folder /mnt/models; starting with zero models");
            _loadedFile = null;
            _loadedDigest = null;
        }
        else
        {
            _loadedFile = file;
            _loadedDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));
            _log.Add($"{Stamp(now)} kserve INFO Successfully loaded model {ModelName} from {Path.GetFileName(file)} ({_loadedDigest})");
        }
        _log.Add($"{Stamp(now)} uvicorn INFO Uvicorn running on http://0.0.0.0:8080");
    }

    private (string? File, string? Error) LocateModel()
    {
        if (ModelPath is null) return (null, null);
        List<string> candidates;
        if (File.Exists(ModelPath)) candidates = [ModelPath];
        else if (Directory.Exists(ModelPath))
        {
            candidates = Directory.EnumerateFiles(ModelPath)
                .Where(f => ModelExtensions.Contains(Path.GetExtension(f), StringComparer.Ordinal))
                .Order(StringComparer.Ordinal).ToList();
        }
        else candidates = [];
        if (candidates.Count == 0) return (null, null);
        if (candidates.Count > 1)
            return (null, $"RuntimeError: More than one model file is detected, Only one is allowed within model_dir: [{string.Join(", ", candidates.Select(Path.GetFileName))}]");
        var bytes = File.ReadAllBytes(candidates[0]);
        if (bytes.Length == 0) return (null, $"EOFError: Ran out of input (loading {Path.GetFileName(candidates[0])})");
        if (bytes.Length >= 7 && bytes.AsSpan(0, 7).SequenceEqual("CORRUPT"u8))
            return (null, $"_pickle.UnpicklingError: invalid load key, 'C'. (loading {Path.GetFileName(candidates[0])})");
        return (candidates[0], null);
    }

    private static string Stamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture);

    private async Task HandleAsync(HttpContext ctx)
    {
        ModelServerState state;
        bool loaded;
        lock (_gate)
        {
            state = _state;
            loaded = _loadedFile is not null;
        }
        if (state != ModelServerState.Running)
        {
            // Nothing listens in a container that has not started or has exited: the closest loopback equivalent is a reset.
            ctx.Abort();
            return;
        }
        var path = ctx.Request.Path.Value ?? "/";
        var method = ctx.Request.Method;
        const string v1Prefix = "/v1/models/";
        const string v2Prefix = "/v2/models/";
        if (method == "GET" && path is "/v2/health/ready" or "/v2/health/live")
        {
            await WriteAsync(ctx, 200, path.EndsWith("ready", StringComparison.Ordinal) ? new JsonObject { ["ready"] = true } : new JsonObject { ["live"] = true });
            return;
        }
        if (method == "GET" && path == "/")
        {
            await WriteAsync(ctx, 200, new JsonObject { ["status"] = "alive" });
            return;
        }
        if (method == "GET" && path == "/v1/models")
        {
            await WriteAsync(ctx, 200, new JsonObject { ["models"] = loaded ? new JsonArray { ModelName } : new JsonArray() });
            return;
        }
        if (path.StartsWith(v1Prefix, StringComparison.Ordinal))
        {
            var rest = Uri.UnescapeDataString(path[v1Prefix.Length..]);
            if (method == "POST" && rest.EndsWith(":predict", StringComparison.Ordinal))
            {
                var name = rest[..^":predict".Length];
                if (!IsServed(name, loaded)) { await NotFoundAsync(ctx, name); return; }
                await PredictAsync(ctx);
                return;
            }
            if (method == "GET")
            {
                if (!IsServed(rest, loaded)) { await NotFoundAsync(ctx, rest); return; }
                await WriteAsync(ctx, 200, new JsonObject { ["name"] = rest, ["ready"] = true });
                return;
            }
        }
        if (path.StartsWith(v2Prefix, StringComparison.Ordinal) && method == "GET")
        {
            var rest = Uri.UnescapeDataString(path[v2Prefix.Length..]);
            var ready = rest.EndsWith("/ready", StringComparison.Ordinal);
            var name = ready ? rest[..^"/ready".Length] : rest;
            if (!IsServed(name, loaded)) { await NotFoundAsync(ctx, name); return; }
            await WriteAsync(ctx, 200, ready
                ? new JsonObject { ["name"] = name, ["ready"] = true }
                : new JsonObject { ["name"] = name, ["versions"] = new JsonArray(), ["platform"] = "", ["inputs"] = new JsonArray(), ["outputs"] = new JsonArray() });
            return;
        }
        await WriteAsync(ctx, 404, new JsonObject { ["detail"] = "Not Found" });
    }

    private bool IsServed(string name, bool loaded) => loaded && name == ModelName;

    private static Task NotFoundAsync(HttpContext ctx, string name) =>
        WriteAsync(ctx, 404, new JsonObject { ["error"] = $"Model with name {name} does not exist." });

    private async Task PredictAsync(HttpContext ctx)
    {
        JsonNode? body;
        try
        {
            body = await JsonNode.ParseAsync(ctx.Request.Body, cancellationToken: ctx.RequestAborted);
        }
        catch (JsonException e)
        {
            await WriteAsync(ctx, 400, new JsonObject { ["error"] = $"Unrecognized request format: {e.Message}" });
            return;
        }
        if (body?["instances"] is not JsonArray instances)
        {
            await WriteAsync(ctx, 400, new JsonObject { ["error"] = "Expected \"instances\" to be a list" });
            return;
        }
        // Deterministic stand-in for a classifier: the class is the rounded sum of the features modulo 3.
        var predictions = new JsonArray();
        foreach (var instance in instances)
        {
            var sum = (instance as JsonArray)?.Sum(v => v is JsonValue jv && jv.TryGetValue<double>(out var d) ? d : 0) ?? 0;
            predictions.Add((long)Math.Abs(Math.Round(sum)) % 3);
        }
        await WriteAsync(ctx, 200, new JsonObject { ["predictions"] = predictions });
    }

    private static async Task WriteAsync(HttpContext ctx, int code, JsonObject body)
    {
        ctx.Response.StatusCode = code;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(body.ToJsonString(), ctx.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate) _state = ModelServerState.Stopped;
        if (_app is null) return;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
        _app = null;
    }
}
