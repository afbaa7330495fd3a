using ArgoHooks.ClusterEmulator.Controllers;
using ArgoHooks.ClusterEmulator.Store;

namespace ArgoHooks.ClusterEmulator;

/// <summary>
/// The emulator's control plane: KServe, Deployment/ReplicaSet controllers and the kubelet, run as one level-triggered
/// loop woken by every stored change and by the next due moment (start-up delays, back-offs, progress deadlines) on the
/// injected <see cref="TimeProvider"/>. Its properties are knobs tests can turn at runtime.
/// </summary>
public sealed class ClusterControllers : IAsyncDisposable
{
    private readonly ObjectStore _store;
    private readonly TimeProvider _time;
    private readonly KServeController _kserve;
    private readonly WorkloadControllers _workloads;
    private readonly Kubelet _kubelet;
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeSpan _resync;
    private Task? _loop;
    private long _passes;
    private volatile bool _paused;

    internal ClusterControllers(ObjectStore store, ModelStorage storage, EmulatorOptions options)
    {
        _store = store;
        _time = options.TimeProvider;
        _resync = options.ControllerResyncInterval;
        _kubelet = new Kubelet(store, storage, _time);
        _kserve = new KServeController(store, _time);
        _workloads = new WorkloadControllers(store, _kubelet, _time);
        PredictorStartupDelay = options.PredictorStartupDelay;
        ProgressDeadline = options.ProgressDeadline;
        CrashLoopBackOff = options.CrashLoopBackOff;
        KServeRevertsRolloutRestart = options.KServeRevertsRolloutRestart;
        DefaultDeploymentMode = options.DefaultDeploymentMode;
        KServePropagatesInferenceServiceAnnotations = options.KServePropagatesInferenceServiceAnnotations;
        ServiceAnnotationDisallowedList = [.. options.ServiceAnnotationDisallowedList];
        store.Changed += _ => Trigger();
    }

    /// <summary>While paused no controller acts (model servers keep answering); resuming reconciles at once.</summary>
    public bool Paused
    {
        get => _paused;
        set
        {
            _paused = value;
            if (!value) Trigger();
        }
    }

    /// <summary>Start-up delay of model servers created from now on.</summary>
    public TimeSpan PredictorStartupDelay { get; set; }

    /// <summary>Progress deadline for Deployments without <c>spec.progressDeadlineSeconds</c>.</summary>
    public TimeSpan ProgressDeadline { get; set; }

    public TimeSpan CrashLoopBackOff { get; set; }

    /// <summary>When true the KServe controller undoes <c>kubectl rollout restart</c> on predictor Deployments.</summary>
    public bool KServeRevertsRolloutRestart { get; set; }

    public string DefaultDeploymentMode { get; set; }

    /// <summary>
    /// When true KServe copies the InferenceService's metadata annotations (minus <see cref="ServiceAnnotationDisallowedList"/>)
    /// into the predictor pod template, as the real controller does: any annotation change then rolls the pods (raw) or
    /// makes a new revision (Knative).
    /// </summary>
    public bool KServePropagatesInferenceServiceAnnotations { get; set; }

    /// <summary>KServe's <c>serviceAnnotationDisallowedList</c> (inferenceservice-config): keys never copied to pods.</summary>
    public IReadOnlyList<string> ServiceAnnotationDisallowedList { get; set; }

    /// <summary>InferenceService reconciles that met a concurrent change and were retried on the next pass.</summary>
    public long KServeRequeues => _kserve.Requeues;

    /// <summary>Number of completed reconcile passes (lets tests wait for "at least one more pass").</summary>
    public long Passes => Interlocked.Read(ref _passes);

    public IReadOnlyList<SimulatedModelServer> ModelServers => _kubelet.Servers;

    public SimulatedModelServer? FindModelServer(string @namespace, string podName) => _kubelet.Find(@namespace, podName);

    internal string? PodLog(string ns, string podName) => _kubelet.Find(ns, podName)?.LogText;

    /// <summary>Asks for a reconcile pass now.</summary>
    public void Trigger()
    {
        if (_signal.CurrentCount == 0) _signal.Release();
    }

    internal void Start() => _loop = Task.Run(() => RunAsync(_stop.Token));

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        Task? pendingSignal = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            DateTimeOffset? due = null;
            if (!_paused)
            {
                try
                {
                    due = await ReconcileOnceAsync(cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (e is Api.ApiException or InvalidOperationException or IOException)
                {
                    // A controller hitting a concurrent change retries on the next pass, as a requeue would.
                    Console.Error.WriteLine($"cluster emulator: controller pass failed, retrying: {e.Message}");
                }
                Interlocked.Increment(ref _passes);
            }
            var wait = _resync;
            if (due is { } d)
            {
                var untilDue = d - _time.GetUtcNow();
                if (untilDue < wait) wait = untilDue < TimeSpan.Zero ? TimeSpan.Zero : untilDue;
            }
            pendingSignal ??= _signal.WaitAsync(cancellationToken);
            using var delayCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var delay = wait == TimeSpan.Zero ? Task.CompletedTask : Task.Delay(wait, _time, delayCts.Token);
            try
            {
                var finished = await Task.WhenAny(pendingSignal, delay);
                if (finished == pendingSignal)
                {
                    await pendingSignal;
                    pendingSignal = null;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            finally
            {
                await delayCts.CancelAsync();
            }
        }
    }

    private async Task<DateTimeOffset?> ReconcileOnceAsync(CancellationToken cancellationToken)
    {
        var propagation = new KServeController.AnnotationPropagation(KServePropagatesInferenceServiceAnnotations, ServiceAnnotationDisallowedList.ToHashSet(StringComparer.Ordinal));
        _kserve.Reconcile(DefaultDeploymentMode, KServeRevertsRolloutRestart, propagation, cancellationToken);
        var workloadDue = await _workloads.ReconcileAsync(ProgressDeadline, PredictorStartupDelay, cancellationToken);
        var kubeletDue = await _kubelet.ReconcileAsync(CrashLoopBackOff, cancellationToken);
        return (workloadDue, kubeletDue) switch
        {
            (null, var k) => k,
            (var w, null) => w,
            (var w, var k) => w < k ? w : k,
        };
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        // The loop returns on cancellation rather than throwing.
        if (_loop is not null) await _loop;
        await _kubelet.DisposeAsync();
        _stop.Dispose();
        _signal.Dispose();
    }
}
