namespace ArgoHooks.SyncLayout;

public enum Severity
{
    Info,
    Warning,
    Error,
}

/// <summary>One thing the check found: what is wrong (or worth knowing) and what to do, in one sentence.</summary>
public sealed record Finding(Severity Severity, string Rule, PlacedResource Resource, string Message);

public sealed record CheckOptions(string Audience = CheckOptions.DefaultAudience)
{
    public const string DefaultAudience = "argohooks";
}

/// <summary>
/// The checks, each a small function of the layout. Argo CD facts they rely on (gitops-engine): a sync runs its steps
/// (phase, then wave) in order and waits at each until its resources are Healthy and its hooks completed — a Job is
/// Healthy once it succeeded — except at the last step when it holds no hook; PostSync starts only after every
/// Sync-phase step. The health script keeps a strict InferenceService Progressing until the hook service verified it.
/// </summary>
public static class Rules
{
    public static IReadOnlyList<Finding> Check(ManifestLayout layout, CheckOptions options)
    {
        IEnumerable<Finding>[] all =
        [
            AnnotationProblems(layout),
            StrictWriterDeadlocks(layout),
            StrictVerification(layout),
            StrictNotAwaited(layout),
            DeferredCouldBeStrict(layout),
            DeferredVerification(layout),
            VerifierNotAwaited(layout),
            NoWriter(layout),
            VerificationTokens(layout, options),
            HookServiceClaimMounts(layout),
        ];
        return all.SelectMany(findings => findings)
            .OrderByDescending(finding => finding.Severity)
            .ThenBy(finding => finding.Resource.Source, StringComparer.Ordinal)
            .ThenBy(finding => finding.Resource.Line)
            .ToList();
    }

    /// <summary>Model services the gate rules apply to: applied, not ModelMesh (which reports real load states).</summary>
    private static IEnumerable<ModelService> Gated(ManifestLayout layout) =>
        layout.InferenceServices.Where(service => service.Resource.IsApplied && !service.ModelMesh);

    /// <summary>Annotations Argo CD or the health script would read differently than their author meant.</summary>
    public static IEnumerable<Finding> AnnotationProblems(ManifestLayout layout)
    {
        var relevant = layout.InferenceServices.Select(service => service.Resource)
            .Concat(layout.Workloads.Where(workload => workload.ClaimMounts.Any(mount => mount.Writable)).Select(workload => workload.Resource))
            .Concat(layout.VerificationJobs.Select(job => job.Resource))
            .Distinct();
        foreach (var resource in relevant)
        {
            if (resource.Placement.InvalidWave is { } invalid)
            {
                yield return new Finding(Severity.Warning, "invalid-sync-wave", resource,
                    $"Its {ArgoCdOrdering.SyncWaveAnnotation} \"{invalid}\" is not an integer, so Argo CD ignores it and places it in {resource.Placement.Steps.FirstOrDefault()}; write a whole number such as \"3\".");
            }

            if (resource.Placement.NotAppliedReason is { } reason)
            {
                yield return new Finding(Severity.Warning, "not-applied", resource,
                    $"Argo CD never applies it during a sync ({reason}); remove that annotation or use PreSync, Sync or PostSync.");
            }
        }

        foreach (var service in layout.InferenceServices)
        {
            if (service.Gate == Gate.Unknown)
            {
                yield return new Finding(Severity.Warning, "unknown-gate", service.Resource,
                    $"Its {LayoutBuilder.GateAnnotation} \"{service.GateText}\" is neither deferred nor strict, so the health check treats it as deferred; write one of the two.");
            }

            if (service.ModelMesh)
            {
                yield return new Finding(Severity.Info, "model-mesh", service.Resource,
                    "It runs in ModelMesh mode, which loads models itself and reports real load states, so no gate applies and the layout is not checked.");
            }
        }
    }

    /// <summary>strict + a writer in a later step: the service's step never becomes Healthy, so the writer never starts.</summary>
    public static IEnumerable<Finding> StrictWriterDeadlocks(ManifestLayout layout)
    {
        foreach (var service in Gated(layout).Where(service => service.IsStrict))
        {
            var later = layout.WritersOf(service)
                .Select(writer => (writer, firstWrite: writer.Resource.Steps.Min()))
                .Where(pair => pair.firstWrite > service.Step)
                .OrderBy(pair => pair.firstWrite)
                .ToList();
            if (later.Count == 0)
            {
                continue;
            }

            var what = later.Count == 1
                ? $"{later[0].writer.Resource.Display} writes claim {service.Claim} in {later[0].firstWrite}, which Argo CD starts"
                : $"{JoinAnd(later.Select(pair => $"{pair.writer.Resource.Display} ({pair.firstWrite})"))} write claim {service.Claim} later, and Argo CD starts those";
            var move = later.Count == 1 ? "the writer" : "the writers";
            yield return new Finding(Severity.Error, "deadlock-writer", service.Resource,
                $"Deadlock: gate strict keeps it Progressing until its model is verified, but {what} only after {service.Step} is Healthy; move {move} to {service.Step} or earlier, or set {LayoutBuilder.GateAnnotation}: deferred.");
        }
    }

    /// <summary>strict needs a verification Job in the service's own step: later never starts, earlier finds no service yet.</summary>
    public static IEnumerable<Finding> StrictVerification(ManifestLayout layout)
    {
        foreach (var service in Gated(layout).Where(service => service.IsStrict))
        {
            if (service.Continuous)
            {
                yield return new Finding(Severity.Info, "continuous", service.Resource,
                    $"Gate strict relies on the hook service verifying it continuously ({LayoutBuilder.VerifyAnnotation}: continuous); make sure continuous mode is enabled, or it stays Progressing.");
                continue;
            }

            var steps = layout.VerifiersOf(service).SelectMany(job => job.Resource.Steps.Select(step => (job, step))).ToList();
            if (steps.Any(pair => pair.step == service.Step))
            {
                continue;
            }

            if (steps.Count == 0)
            {
                yield return new Finding(Severity.Error, "deadlock-no-verifier", service.Resource,
                    $"Deadlock: gate strict keeps it Progressing until the hook service verifies its model, but no Job in these manifests runs `argohooks call` for it; add the verification Job (deploy/job) in {service.Step}.");
                continue;
            }

            var later = steps.Where(pair => pair.step > service.Step).OrderBy(pair => pair.step).FirstOrDefault();
            if (later.job is not null)
            {
                yield return new Finding(Severity.Error, "deadlock-verifier", service.Resource,
                    $"Deadlock: gate strict keeps it Progressing until verified, but the verification {later.job.Resource.Display} runs in {later.step}, which Argo CD starts only after {service.Step} is Healthy; move the Job to {service.Step} or set {LayoutBuilder.GateAnnotation}: deferred.");
                continue;
            }

            var earlier = steps.OrderByDescending(pair => pair.step).First();
            yield return new Finding(Severity.Error, "strict-verifier-too-early", service.Resource,
                $"Gate strict waits for a verification, but {earlier.job.Resource.Display} runs in {earlier.step}, before this InferenceService exists, so nothing verifies it and it stays Progressing; move the Job to {service.Step}.");
        }
    }

    /// <summary>The last step without hooks is not waited for: a strict gate there holds the application's health, not the sync.</summary>
    public static IEnumerable<Finding> StrictNotAwaited(ManifestLayout layout)
    {
        foreach (var service in Gated(layout).Where(service => service.IsStrict && !layout.WaitsAt(service.Step)))
        {
            yield return new Finding(Severity.Info, "strict-not-awaited", service.Resource,
                $"{Capitalized(service.Step.ToString())} is the last step and holds no hook, so Argo CD reports the sync successful without waiting for it; the strict gate still keeps the application's health Progressing until the model is verified.");
        }
    }

    /// <summary>deferred where every writer runs first: strict would not deadlock and says more.</summary>
    public static IEnumerable<Finding> DeferredCouldBeStrict(ManifestLayout layout)
    {
        foreach (var service in Gated(layout).Where(service => service.Gate == Gate.Deferred))
        {
            var writers = layout.WritersOf(service);
            if (writers.Count == 0 || writers.Any(writer => writer.Resource.Steps.Min() > service.Step))
            {
                continue;
            }

            var verifierInStep = layout.VerifiersOf(service).Any(job => job.Resource.Steps.Contains(service.Step));
            var also = verifierInStep ? "" : $" and run the verification Job in {service.Step}";
            yield return new Finding(Severity.Info, "could-be-strict", service.Resource,
                $"Every writer of claim {service.Claim} runs no later than its own {service.Step}, so gate strict would not deadlock and would keep it Progressing until the model is verified; consider {LayoutBuilder.GateAnnotation}: strict{also}.");
        }
    }

    /// <summary>deferred: a verification Job should exist and run after the service and after every writer.</summary>
    public static IEnumerable<Finding> DeferredVerification(ManifestLayout layout)
    {
        foreach (var service in Gated(layout).Where(service => !service.IsStrict && !service.Continuous))
        {
            var verifiers = layout.VerifiersOf(service);
            if (verifiers.Count == 0)
            {
                yield return new Finding(Severity.Warning, "verifier-missing", service.Resource,
                    "No Job in these manifests runs `argohooks call` for it, so its model load is never verified and the health check keeps saying so; add the verification Job (deploy/job) after the Jobs that write the model.");
                continue;
            }

            var (job, step) = verifiers.SelectMany(verifier => verifier.Resource.Steps.Select(step => (verifier, step))).MaxBy(pair => pair.step);
            if (step < service.Step)
            {
                yield return new Finding(Severity.Warning, "verifier-before-service", job.Resource,
                    $"It runs in {step}, before {service.Resource.Display} ({service.Step}) exists, so it cannot verify it; move it after {service.Step} and after the Jobs that write the model.");
                continue;
            }

            var writers = layout.WritersOf(service);
            if (writers.Count == 0)
            {
                continue;
            }

            var lastWriter = writers.Select(writer => (writer, step: writer.Resource.Steps.Max())).MaxBy(pair => pair.step);
            if (step <= lastWriter.step)
            {
                var relation = step == lastWriter.step ? "together with" : "before";
                yield return new Finding(Severity.Warning, "verifier-before-writer", job.Resource,
                    $"It starts {relation} {lastWriter.writer.Resource.Display} ({lastWriter.step}), which writes the model of {service.Resource.Display}; it still works because the hook service waits for the artifact, but its time budget runs while the model is written, so move it to a later wave or a PostSync hook.");
            }
        }
    }

    /// <summary>A verification Job in the last step without hooks: the sync result does not include it.</summary>
    public static IEnumerable<Finding> VerifierNotAwaited(ManifestLayout layout)
    {
        foreach (var job in layout.VerificationJobs.Where(job => job.Resource.IsApplied && !job.Resource.Placement.IsHook))
        {
            var step = job.Resource.Steps.Max();
            var misplacedForStrict = Gated(layout).Any(service => service.IsStrict && job.Covers(service) && !job.Resource.Steps.Contains(service.Step));
            if (!layout.WaitsAt(step) && !misplacedForStrict) // a misplaced Job for strict is a deadlock finding already
            {
                // A strict InferenceService needs its verifier in its own step, so PostSync would deadlock it; a Sync hook there is waited for.
                var hook = Gated(layout).Any(service => service.IsStrict && job.Covers(service))
                    ? $"add {ArgoCdOrdering.HookAnnotation}: Sync (hooks are always waited for)"
                    : "make it a PostSync hook (deploy/job/post-sync)";
                yield return new Finding(Severity.Info, "verifier-not-awaited", job.Resource,
                    $"{Capitalized(step.ToString())} is the last step and holds no hook, so Argo CD reports the sync successful without waiting for this Job and a failed verification shows only in the health; {hook} if the sync result should include it.");
            }
        }
    }

    /// <summary>A model nobody in this sync writes: fine when a pipeline fills the claim, worth saying.</summary>
    public static IEnumerable<Finding> NoWriter(ManifestLayout layout)
    {
        foreach (var service in Gated(layout).Where(service => layout.WritersOf(service).Count == 0))
        {
            yield return new Finding(Severity.Info, "no-writer", service.Resource,
                $"No Job or pod in these manifests mounts claim {service.Claim} writable, so its model must come from outside this sync; the hook service waits for it up to its artifact timeout.");
        }
    }

    /// <summary>`argohooks call` authenticates with a projected token for the hook service's audience, read from one path.</summary>
    public static IEnumerable<Finding> VerificationTokens(ManifestLayout layout, CheckOptions options)
    {
        foreach (var job in layout.VerificationJobs)
        {
            if (job.Tokens.Count == 0)
            {
                yield return new Finding(Severity.Error, "token-missing", job.Resource,
                    $"It has no projected serviceAccountToken volume, so `argohooks call` has no token the hook service accepts; add a projected volume with serviceAccountToken audience {options.Audience} mounted so the token is at {job.TokenFile ?? LayoutBuilder.DefaultTokenFile}.");
                continue;
            }

            var forAudience = job.Tokens.Where(token => token.Audience == options.Audience).ToList();
            if (forAudience.Count == 0)
            {
                var audiences = string.Join(", ", job.Tokens.Select(token => token.Audience is null ? "none (the API server's)" : $"\"{token.Audience}\"").Distinct());
                yield return new Finding(Severity.Error, "token-audience", job.Resource,
                    $"Its projected serviceAccountToken has audience {audiences}, but the hook service only accepts audience \"{options.Audience}\"; set serviceAccountToken.audience: {options.Audience}.");
                continue;
            }

            if (job.TokenFile is null)
            {
                yield return new Finding(Severity.Info, "token-file-unknown", job.Resource,
                    $"Its token path comes from {job.TokenFileOrigin} as a reference this check cannot resolve, so whether container {job.Container} reads the projected token was not checked.");
                continue;
            }

            if (!forAudience.Any(token => token.FilesInContainer.Contains(job.TokenFile, StringComparer.Ordinal)))
            {
                var mounted = forAudience.SelectMany(token => token.FilesInContainer).ToList();
                var where = mounted.Count == 0 ? $"container {job.Container} does not mount it" : $"container {job.Container} sees it at {string.Join(", ", mounted)}";
                yield return new Finding(Severity.Error, "token-not-mounted", job.Resource,
                    $"`argohooks call` reads its token from {job.TokenFile} ({job.TokenFileOrigin}), but {where}; mount volume {forAudience[0].Volume} so the token is at {job.TokenFile} or set {LayoutBuilder.TokenFileVariable} to where it is.");
            }
        }
    }

    /// <summary>When the hook service is part of the render, it must mount each model claim where it looks for it.</summary>
    public static IEnumerable<Finding> HookServiceClaimMounts(ManifestLayout layout)
    {
        foreach (var hookService in layout.HookServices.Where(hookService => hookService.Resource.IsApplied))
        {
            var claims = Gated(layout)
                .Where(service => service.Resource.SharesNamespaceWith(hookService.Resource.Namespace))
                .GroupBy(service => service.Claim, StringComparer.Ordinal);
            foreach (var claim in claims)
            {
                if (hookService.FolderOf(claim.Key) is not { } folder)
                {
                    continue; // the claims root comes from a reference; nothing to compare with
                }

                if (hookService.Mounts.Any(mount => mount.Claim == claim.Key && mount.MountPath.TrimEnd('/') == folder.TrimEnd('/')))
                {
                    continue;
                }

                var mountedElsewhere = hookService.Mounts.FirstOrDefault(mount => mount.Claim == claim.Key);
                var where = mountedElsewhere is null ? "does not mount claim " + claim.Key : $"mounts claim {claim.Key} at {mountedElsewhere.MountPath}";
                yield return new Finding(Severity.Warning, "service-claim-not-mounted", hookService.Resource,
                    $"The hook service looks for the models of {JoinAnd(claim.Select(service => service.Resource.Display))} in {folder} but its container {hookService.Container} {where}, so their runs fail; mount the claim read-only at {folder} or set {LayoutBuilder.ClaimFolderVariablePrefix}{claim.Key} to its mount path.");
            }
        }
    }

    private static string JoinAnd(IEnumerable<string> items)
    {
        var list = items.ToList();
        return list.Count <= 1 ? string.Concat(list) : string.Join(", ", list.Take(list.Count - 1)) + " and " + list[^1];
    }

    private static string Capitalized(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
