using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ArgoHooks.ClusterEmulator.Api;
using ArgoHooks.ClusterEmulator.Store;

namespace ArgoHooks.ClusterEmulator;

/// <summary>
/// An in-process Kubernetes API server (real REST paths, Status errors, patches, watches) with KServe,
/// Deployment/ReplicaSet controllers and simulated KServe sklearn model servers, on 127.0.0.1.
/// </summary>
public sealed class EmulatedCluster : IAsyncDisposable
{
    private readonly ApiServer _api;
    private readonly ObjectStore _store;
    private int _disposed;

    private EmulatedCluster(EmulatorOptions options)
    {
        Options = options;
        _store = new ObjectStore(options.TimeProvider, options.WatchHistoryLimit)
        {
            Validator = Validation.Validate,
            DefaultPodGracePeriod = options.PodTerminationGracePeriod,
        };
        Storage = new ModelStorage(options.ModelStorageRoot);
        Access = new AccessTable();
        AdminToken = options.AdminToken ?? "emulator-admin-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        Access.AddToken(AdminToken, "kubernetes-admin", [AccessTable.MastersGroup]);
        Requests = new RequestLog();
        Faults = new FaultInjector(options.FaultSeed, _store.CutWatches, _store.CompactHistory);
        Controllers = new ClusterControllers(_store, Storage, options);
        _api = new ApiServer(_store, Access, Faults, Requests, options, (ns, pod) => Controllers.PodLog(ns, pod));
    }

    public static async Task<EmulatedCluster> StartAsync(EmulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new EmulatorOptions();
        options.Validate();
        var cluster = new EmulatedCluster(options);
        try
        {
            foreach (var ns in options.Namespaces.Append("kube-system").Distinct()) cluster.EnsureNamespace(ns);
            await cluster._api.StartAsync(cancellationToken);
            cluster.Controllers.Start();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public EmulatorOptions Options { get; }

    /// <summary>http://127.0.0.1:&lt;port&gt;/</summary>
    public Uri BaseAddress => _api.BaseAddress;

    /// <summary>Bearer token of a cluster admin (group system:masters).</summary>
    public string AdminToken { get; }

    public ModelStorage Storage { get; }

    public FaultInjector Faults { get; }

    public RequestLog Requests { get; }

    public AccessTable Access { get; }

    public ClusterControllers Controllers { get; }

    public IReadOnlyList<SimulatedModelServer> ModelServers => Controllers.ModelServers;

    /// <summary>The current global resourceVersion.</summary>
    public long ResourceVersion => _store.CurrentResourceVersion;

    /// <summary>Writes a kubeconfig (context "emulator", token auth) for kubectl or KubernetesClient; returns the path.</summary>
    public string WriteKubeconfig(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var server = BaseAddress.ToString().TrimEnd('/');
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: emulator
              cluster:
                server: {server}
            users:
            - name: emulator-admin
              user:
                token: {AdminToken}
            contexts:
            - name: emulator
              context:
                cluster: emulator
                user: emulator-admin
                namespace: default
            current-context: emulator
            preferences: {"{}"}

            """);
        return path;
    }

    /// <summary>
    /// Create-or-replace of every object in a YAML (multi-document) or JSON manifest, as a test/demo setup step; the
    /// namespace is created when missing; status in the manifest is ignored. Returns the last stored object.
    /// </summary>
    public Task<JsonObject> ApplyAsync(string yamlOrJson, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        var documents = YamlJson.ParseAll(yamlOrJson);
        if (documents.Count == 0) throw new ArgumentException("the manifest contains no object", nameof(yamlOrJson));
        JsonObject? last = null;
        foreach (var doc in documents)
        {
            var apiVersion = Json.Str(doc, "apiVersion") ?? throw new ArgumentException("a manifest object has no apiVersion", nameof(yamlOrJson));
            var kind = Json.Str(doc, "kind") ?? throw new ArgumentException("a manifest object has no kind", nameof(yamlOrJson));
            var type = ResourceTypes.FindByKind(apiVersion, kind) ?? throw new ArgumentException($"the emulator does not serve {apiVersion} {kind}", nameof(yamlOrJson));
            var name = Json.Str(doc, "metadata", "name") ?? throw new ArgumentException($"a {kind} in the manifest has no metadata.name", nameof(yamlOrJson));
            var ns = "";
            if (type.Namespaced)
            {
                ns = Json.Str(doc, "metadata", "namespace") ?? "default";
                Json.Metadata(doc)["namespace"] = ns;
                EnsureNamespace(ns);
            }
            var options = new WriteOptions("emulator-apply");
            var stored = doc;
            if (type == ResourceTypes.Events)
            {
                // Stored once, as v1 Events (see EventConversion).
                type = ResourceTypes.CoreEvents;
                stored = EventConversion.ToCore(doc);
            }
            if (_store.Get(type, ns, name) is null) last = _store.Create(type, stored, options);
            else
            {
                last = _store.Modify(type, ns, name, current =>
                {
                    var replaced = Json.Clone(stored);
                    Json.Metadata(replaced).Remove("resourceVersion");
                    if (current["status"] is { } status) replaced["status"] = status.DeepClone();
                    return replaced;
                }, options);
            }
        }
        return Task.FromResult(last!);
    }

    /// <summary>Direct read of stored state (no request is counted); null when absent.</summary>
    public JsonObject? Get(string apiVersion, string kind, string @namespace, string name)
    {
        var type = ResourceTypes.FindByKind(apiVersion, kind) ?? throw new ArgumentException($"the emulator does not serve {apiVersion} {kind}", nameof(kind));
        if (type == ResourceTypes.Events)
            return _store.Get(ResourceTypes.CoreEvents, @namespace, name) is { } stored ? EventConversion.ToModern(stored) : null;
        return _store.Get(type, type.Namespaced ? @namespace : "", name);
    }

    /// <summary>Direct list of stored state, optionally filtered by a label selector.</summary>
    public IReadOnlyList<JsonObject> List(string apiVersion, string kind, string? @namespace = null, string? labelSelector = null)
    {
        var type = ResourceTypes.FindByKind(apiVersion, kind) ?? throw new ArgumentException($"the emulator does not serve {apiVersion} {kind}", nameof(kind));
        if (type == ResourceTypes.Events)
            return _store.List(ResourceTypes.CoreEvents, @namespace, LabelSelector.Parse(labelSelector)).Items.Select(EventConversion.ToModern).ToList();
        return _store.List(type, @namespace, LabelSelector.Parse(labelSelector)).Items;
    }

    /// <summary>Creates a namespace if it does not exist.</summary>
    public void EnsureNamespace(string name)
    {
        if (_store.Get(ResourceTypes.Namespaces, "", name) is not null) return;
        try
        {
            _store.Create(ResourceTypes.Namespaces, new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Namespace",
                ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["kubernetes.io/metadata.name"] = name } },
            }, new WriteOptions("emulator"));
        }
        catch (ApiException e) when (e.Code == 409)
        {
            // Created concurrently: that is what we wanted.
            return;
        }
    }

    /// <summary>Waits (polling stored state on real time) until <paramref name="condition"/> holds; for tests and demos.</summary>
    public async Task WaitUntilAsync(Func<EmulatedCluster, bool> condition, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        while (!condition(this))
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), cts.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"the emulated cluster did not reach the expected state within {timeout}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _store.CutWatches();
        await _api.DisposeAsync();
        await Controllers.DisposeAsync();
        Storage.Dispose();
    }
}
