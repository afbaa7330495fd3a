using System.Text.Json.Serialization;
using ArgoHooks.HookService.Healing;

namespace ArgoHooks.HookService.Runs;

public static class RunStates
{
    public const string Running = "Running";
    public const string Succeeded = "Succeeded";
    public const string Failed = "Failed";
}

/// <summary>What a caller asked for, normalised (sorted names) so a repeated POST can be compared with the first.</summary>
public sealed record RunRequest(string Namespace, IReadOnlyList<string> InferenceServices, string? RunId, int? ArtifactTimeoutSeconds)
{
    public bool SameAs(RunRequest other) =>
        Namespace == other.Namespace
        && InferenceServices.Order(StringComparer.Ordinal).SequenceEqual(other.InferenceServices.Order(StringComparer.Ordinal))
        && ArtifactTimeoutSeconds == other.ArtifactTimeoutSeconds;
}

public sealed record RunItemView(
    string Name,
    string Phase,
    string Message,
    string? ArtifactDigest,
    int Restarts,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? JoinedRun);

/// <summary>One phase change of one InferenceService; <c>seq</c> grows by one per change within this process.</summary>
public sealed record RunEventView(long Seq, DateTimeOffset Time, string InferenceService, string Phase, string Message);

public sealed record RunView(
    string Id,
    string Namespace,
    string State,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Message,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    long Version,
    IReadOnlyList<RunItemView> InferenceServices,
    IReadOnlyList<RunEventView> Events);

/// <summary>
/// One run in memory: its InferenceServices' statuses, a bounded event log, and a change signal for long-polls.
/// The cluster (annotations) is the source of truth; this is the view callers poll.
/// </summary>
public sealed class Run
{
    private const int MaxEvents = 2000;
    private readonly object gate = new();
    private readonly List<ItemState> items = [];
    private readonly List<RunEventView> events = [];
    private TaskCompletionSource changed = NewSignal();
    private long version;
    private string state = RunStates.Running;
    private string? message;
    private DateTimeOffset? finishedAt;

    public Run(RunRequest request, string id, DateTimeOffset startedAt)
    {
        Request = request;
        Id = id;
        StartedAt = startedAt;
        foreach (var name in request.InferenceServices)
        {
            items.Add(new ItemState(name));
        }
    }

    public string Id { get; }
    public RunRequest Request { get; }
    public string Namespace => Request.Namespace;
    public DateTimeOffset StartedAt { get; }

    public bool IsFinished
    {
        get { lock (gate) return state != RunStates.Running; }
    }

    public DateTimeOffset? FinishedAt
    {
        get { lock (gate) return finishedAt; }
    }

    /// <summary>Used when the request named no InferenceService and the namespace was listed.</summary>
    public void SetInferenceServices(IEnumerable<string> names)
    {
        lock (gate)
        {
            foreach (var name in names.Where(name => items.All(item => item.Name != name)))
            {
                items.Add(new ItemState(name));
            }

            Touch();
        }
    }

    public void Update(string name, HealStatus status, string? joinedRun, DateTimeOffset now)
    {
        lock (gate)
        {
            var item = items.Find(candidate => candidate.Name == name) ?? throw new ArgumentException($"{name} is not part of run {Id}", nameof(name));
            var phaseChanged = item.Status.Phase != status.Phase;
            if (!phaseChanged && item.Status == status && item.JoinedRun == joinedRun)
            {
                return;
            }

            item.Status = status;
            item.JoinedRun = joinedRun;
            version++;
            if (phaseChanged)
            {
                if (events.Count == MaxEvents)
                {
                    events.RemoveAt(0);
                }

                events.Add(new RunEventView(version, now, name, status.Phase, status.Message));
            }

            Signal();
        }
    }

    public void Finish(DateTimeOffset now, string? failureMessage = null)
    {
        lock (gate)
        {
            var allVerified = items.Count > 0 && items.All(item => item.Status.Phase == Phases.Verified);
            state = failureMessage is null && allVerified ? RunStates.Succeeded : RunStates.Failed;
            message = failureMessage;
            finishedAt = now;
            Touch();
        }
    }

    public RunView View()
    {
        lock (gate)
        {
            return new RunView(Id, Namespace, state, message, StartedAt, finishedAt, version,
                items.Select(item => new RunItemView(item.Name, item.Status.Phase, item.Status.Message, item.Status.ArtifactDigest, item.Status.Restarts, item.JoinedRun)).ToList(),
                events.ToList());
        }
    }

    /// <summary>Completes when the run changes after <paramref name="afterVersion"/>, it finishes, or the wait ends.</summary>
    public async Task WaitForChangeAsync(long afterVersion, TimeSpan wait, TimeProvider time, CancellationToken cancellationToken)
    {
        Task signal;
        lock (gate)
        {
            if (version > afterVersion || state != RunStates.Running)
            {
                return;
            }

            signal = changed.Task;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(wait, time, stop.Token);
        await Task.WhenAny(signal, delay);
        await stop.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
    }

    private void Touch()
    {
        version++;
        Signal();
    }

    private void Signal()
    {
        changed.TrySetResult();
        changed = NewSignal();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class ItemState(string name)
    {
        public string Name { get; } = name;
        public HealStatus Status { get; set; } = new(HealStatus.Pending, "Waiting to start.");
        public string? JoinedRun { get; set; }
    }
}
