using System.Globalization;
using ArgoHooks.HookService.Runs;

namespace ArgoHooks.HookService.Cli;

/// <summary>
/// Starts the run and follows it with long-polls, printing one line per phase change per InferenceService.
/// Survives the service restarting: transient failures back off and retry; a 404 for the run means the
/// instance that answered does not know it, so the same request (same runId) is POSTed again and the service
/// resumes it from the annotations.
/// </summary>
internal sealed class RunFollower(HookServiceClient client, CallSettings settings, TextWriter output, TextWriter error, TimeProvider time)
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    // Every status answer carries the run's whole event history: print the events not printed yet (by sequence
    // number), and of those only phase changes, so a resumed run (a restarted service numbers afresh and replays
    // the phase it resumed at) does not repeat a line.
    private readonly Dictionary<string, string> printedPhase = new(StringComparer.Ordinal);
    private DateTimeOffset printedRunStartedAt;
    private long printedSeq;
    private DateTimeOffset? unreachableSince;
    private TimeSpan backoff = FirstBackoff;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var runId = settings.Request.RunId!;
        await output.WriteLineAsync($"{Now()} run {runId} starting in namespace {settings.Request.Namespace}");
        var (run, exit) = await StartAsync(cancellationToken);
        if (run is null)
        {
            return exit;
        }

        while (true)
        {
            await PrintAsync(run);
            if (run.State != RunStates.Running)
            {
                await output.WriteLineAsync($"{Now()} run {run.Id} {run.State}{(run.Message is null ? "" : " " + run.Message)}");
                return run.State == RunStates.Succeeded ? 0 : 1;
            }

            var answer = await client.GetRunAsync(runId, settings.WaitSeconds, run.Version, ReadToken(), cancellationToken);
            if (answer.Run is { } next)
            {
                Reachable();
                run = next;
                continue;
            }

            if (answer.StatusCode == 404)
            {
                await error.WriteLineAsync($"{Now()} the hook service does not know run {runId} (it restarted?); sending the run request again");
                (var restarted, exit) = await StartAsync(cancellationToken);
                if (restarted is null)
                {
                    return exit;
                }

                run = restarted;
                continue;
            }

            if (await GiveUpOrWaitAsync(answer, cancellationToken) is { } failed)
            {
                return failed;
            }
        }
    }

    /// <returns>The run, or null with the exit code.</returns>
    private async Task<(RunView? Run, int Exit)> StartAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var answer = await client.StartRunAsync(settings.Request, ReadToken(), cancellationToken);
            if (answer.Run is { } run)
            {
                Reachable();
                return (run, 0);
            }

            if (!answer.IsTransient)
            {
                await error.WriteLineAsync($"{Now()} the hook service refused the run: {answer.Problem}");
                // The request itself is wrong (fields, conflicting runId, body): bad usage. Anything else (401, 403): failed.
                return (null, answer.StatusCode is 400 or 409 or 413 or 415 or 422 ? CommandLine.UsageError : 1);
            }

            if (await GiveUpOrWaitAsync(answer, cancellationToken) is { } failed)
            {
                return (null, failed);
            }
        }
    }

    /// <returns>1 when the service stayed unreachable longer than allowed; null after backing off.</returns>
    private async Task<int?> GiveUpOrWaitAsync(ServiceAnswer answer, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        unreachableSince ??= now;
        if (now - unreachableSince.Value > settings.GiveUpAfter)
        {
            await error.WriteLineAsync($"{Now()} giving up: the hook service has not answered usefully for {(int)settings.GiveUpAfter.TotalSeconds} seconds ({answer.Problem})");
            return 1;
        }

        await error.WriteLineAsync($"{Now()} {answer.Problem}; retrying in {backoff.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s");
        // Full jitter keeps retried Jobs from arriving in lock-step after a service restart.
        var delay = TimeSpan.FromMilliseconds(backoff.TotalMilliseconds * (0.5 + Random.Shared.NextDouble() / 2));
        await Task.Delay(delay, time, cancellationToken);
        backoff = backoff * 2 > MaxBackoff ? MaxBackoff : backoff * 2;
        return null;
    }

    private void Reachable()
    {
        unreachableSince = null;
        backoff = FirstBackoff;
    }

    private async Task PrintAsync(RunView run)
    {
        if (run.StartedAt != printedRunStartedAt)
        {
            printedRunStartedAt = run.StartedAt;
            printedSeq = 0;
        }

        foreach (var change in run.Events.Where(change => change.Seq > printedSeq).OrderBy(change => change.Seq))
        {
            printedSeq = change.Seq;
            if (printedPhase.TryGetValue(change.InferenceService, out var printed) && printed == change.Phase)
            {
                continue;
            }

            printedPhase[change.InferenceService] = change.Phase;

            await output.WriteLineAsync($"{Format(change.Time)} {change.InferenceService} {change.Phase} {change.Message}");
        }
    }

    private string? ReadToken()
    {
        if (settings.TokenFile is null)
        {
            return null;
        }

        var token = File.ReadAllText(settings.TokenFile).Trim();
        return token.Length == 0 ? null : token;
    }

    private string Now() => Format(time.GetUtcNow());

    private static string Format(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
}
