using System.Security.Cryptography;
using ArgoHooks.HookService.Observability;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Artifacts;

/// <summary>A model file that exists, is non-empty and did not change over the settle interval.</summary>
/// <param name="WrittenAt">The later of its birth time and last write time: a model server that started after this loaded this file.</param>
public sealed record StableArtifact(string FileName, string FullPath, long Size, string Digest, DateTimeOffset WrittenAt);

public sealed record ArtifactWaitResult(StableArtifact? Artifact, string? Error);

/// <summary>
/// Waits, by polling the mounted folder (never the Kubernetes API), for exactly the file the KServe sklearn
/// server would load — or the file the argohooks.io/artifact annotation names — to be written completely.
/// </summary>
public sealed class ArtifactWaiter(IOptionsMonitor<ArtifactOptions> options, TimeProvider time, ILogger<ArtifactWaiter> logger)
{
    /// <summary>The extensions the sklearn server looks for, one file directly in the model folder.</summary>
    public static readonly IReadOnlyList<string> ModelExtensions = [".pkl", ".pickle", ".joblib"];

    private const string AnyModelFile = "one *.pkl, *.pickle or *.joblib file";

    /// <param name="onWaiting">Called with a one-sentence message whenever what is being waited for changes.</param>
    public async Task<ArtifactWaitResult> WaitAsync(
        ArtifactLocation location, string? artifactOverride, TimeSpan timeout, Action<string> onWaiting, CancellationToken cancellationToken)
    {
        if (artifactOverride is not null && (artifactOverride.Length == 0 || !StorageUriResolver.IsSafeRelativePath(artifactOverride)))
        {
            return Fail($"The argohooks.io/artifact annotation \"{artifactOverride}\" is not a plain relative file name; name a file inside {location.StorageUri}.");
        }

        var deadline = time.GetUtcNow() + timeout;
        var timeoutText = HumanText.Duration(timeout);
        string? lastMessage = null;
        Observation? observed = null;
        WaitState state = WaitState.NoFolder;
        string candidateName = artifactOverride ?? AnyModelFile;

        void Report(string message)
        {
            if (message != lastMessage)
            {
                lastMessage = message;
                onWaiting(message);
            }
        }

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var settings = options.CurrentValue;
            Candidate found;
            try
            {
                found = FindCandidate(location, artifactOverride);
            }
            catch (UnauthorizedAccessException denied)
            {
                return Fail(Unreadable(location.StorageUri, "the folder", denied));
            }

            if (found.Error is not null)
            {
                return Fail(found.Error);
            }

            state = found.State;
            if (found.Path is { } path)
            {
                candidateName = Path.GetFileName(path);
                var now = time.GetUtcNow();
                var current = Observe(path);
                if (current is null)
                {
                    observed = null; // deleted between listing and stat: look again next round
                }
                else if (observed is null || !observed.SameFile(current))
                {
                    observed = current with { Since = now };
                }

                if (observed is { Size: > 0 } && now - observed.Since >= settings.SettleInterval)
                {
                    string digest;
                    try
                    {
                        digest = await DigestAsync(path, cancellationToken);
                    }
                    catch (UnauthorizedAccessException denied)
                    {
                        return Fail(Unreadable(location.StorageUri, candidateName, denied));
                    }

                    var after = Observe(path);
                    if (after is not null && observed.SameFile(after))
                    {
                        logger.LogInformation("Artifact {File} is stable: {Size} bytes, {Digest}", path, observed.Size, digest);
                        return new ArtifactWaitResult(
                            new StableArtifact(candidateName, path, observed.Size, digest, observed.WrittenAt), null);
                    }

                    observed = after is null ? null : after with { Since = time.GetUtcNow() };
                }

                state = observed is { Size: 0 } ? WaitState.Empty : WaitState.Settling;
            }

            Report(state switch
            {
                WaitState.Settling or WaitState.Empty =>
                    $"Waiting for {candidateName} in {location.StorageUri} to be completely written; the timeout is {timeoutText}.",
                _ => $"Waiting for {candidateName} in {location.StorageUri}; the timeout is {timeoutText}.",
            });

            var remaining = deadline - time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                return Fail(TimeoutMessage(state, candidateName, artifactOverride is not null, location.StorageUri, timeoutText));
            }

            await Task.Delay(Min(settings.PollInterval, remaining), time, cancellationToken);
        }
    }

    private static string TimeoutMessage(WaitState state, string name, bool isOverride, string storageUri, string timeout) => state switch
    {
        WaitState.NoFolder =>
            $"The folder {storageUri} still did not exist after {timeout}; check the storageUri path and that the job writing the model ran.",
        WaitState.NoFile when isOverride =>
            $"{name} did not appear in {storageUri} within {timeout}; check the argohooks.io/artifact annotation and that the job writing the model ran.",
        WaitState.NoFile =>
            $"No *.pkl, *.pickle or *.joblib file appeared in {storageUri} within {timeout}; check that the job writing the model ran and wrote exactly one model file there.",
        WaitState.Empty =>
            $"{name} in {storageUri} was still empty after {timeout}; check that the job writing the model finished.",
        _ =>
            $"{name} in {storageUri} was still changing after {timeout}; check that the job writing the model finished.",
    };

    private enum WaitState { NoFolder, NoFile, Empty, Settling }

    private sealed record Candidate(WaitState State, string? Path, string? Error);

    private static Candidate FindCandidate(ArtifactLocation location, string? artifactOverride)
    {
        var target = location.Target;
        if (File.Exists(target) && artifactOverride is null)
        {
            // storageUri names the file itself.
            return Checked(location, target, WaitState.Settling);
        }

        if (!Directory.Exists(target))
        {
            return new Candidate(WaitState.NoFolder, null, null);
        }

        if (!StorageUriResolver.ResolvesInside(location, target))
        {
            return new Candidate(WaitState.NoFolder, null,
                $"The folder of {location.StorageUri} is a symlink that leads outside the PVC; replace it with a real folder inside the claim.");
        }

        if (artifactOverride is not null)
        {
            var overridePath = Path.GetFullPath(Path.Combine(target, artifactOverride));
            return File.Exists(overridePath) ? Checked(location, overridePath, WaitState.Settling) : new Candidate(WaitState.NoFile, null, null);
        }

        var models = Directory.EnumerateFiles(target)
            .Where(file => ModelExtensions.Any(extension => file.EndsWith(extension, StringComparison.Ordinal)))
            .Order(StringComparer.Ordinal)
            .ToList();
        return models.Count switch
        {
            0 => new Candidate(WaitState.NoFile, null, null),
            1 => Checked(location, models[0], WaitState.Settling),
            _ => new Candidate(WaitState.NoFile, null,
                $"The folder {location.StorageUri} holds several model files ({string.Join(", ", models.Select(Path.GetFileName))}); the sklearn server refuses to load any of them, so keep exactly one."),
        };
    }

    private static Candidate Checked(ArtifactLocation location, string path, WaitState state) =>
        StorageUriResolver.ResolvesInside(location, path)
            ? new Candidate(state, path, null)
            : new Candidate(state, null,
                $"{Path.GetFileName(path)} in {location.StorageUri} is a symlink that leads outside the PVC; replace it with the file itself.");

    private sealed record Observation(long Size, DateTimeOffset WrittenAt, DateTimeOffset Since)
    {
        public bool SameFile(Observation other) => Size == other.Size && WrittenAt == other.WrittenAt;
    }

    private static Observation? Observe(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            return null;
        }

        // A copy that preserves an old mtime (cp -p) still has a fresh birth time: take the later one.
        var written = info.LastWriteTimeUtc > info.CreationTimeUtc ? info.LastWriteTimeUtc : info.CreationTimeUtc;
        return new Observation(info.Length, new DateTimeOffset(written, TimeSpan.Zero), default);
    }

    private static async Task<string> DigestAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, useAsync: true);
        var hash = await SHA256.HashDataAsync(stream, cancellationToken);
        return "sha256:" + Convert.ToHexStringLower(hash);
    }

    private static string Unreadable(string storageUri, string what, UnauthorizedAccessException denied) =>
        $"The hook service may not read {what} in {storageUri} ({denied.Message.TrimEnd('.')}); make the model readable by the hook service's user, e.g. mode 0644 or a shared fsGroup.";

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static ArtifactWaitResult Fail(string error) => new(null, error);
}
