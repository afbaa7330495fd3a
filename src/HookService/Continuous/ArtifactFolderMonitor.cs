using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using ArgoHooks.HookService.Artifacts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Continuous;

/// <summary>
/// Notices changes in the model folders of the InferenceServices being verified: a cheap fingerprint (names, sizes,
/// times of the model files directly in the folder) polled with a doubling back-off, and a FileSystemWatcher per
/// folder that wakes the poller early where the file system reports changes (inotify; not on every network volume).
/// It only notices; deciding what the change means (stable digest, restart) is the evaluator's job.
/// </summary>
public sealed class ArtifactFolderMonitor(IOptionsMonitor<ContinuousOptions> options, TimeProvider time, ILogger<ArtifactFolderMonitor> logger) : IDisposable
{
    private readonly ConcurrentDictionary<string, Folder> folders = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim wake = new(0, int.MaxValue);

    private sealed class Folder(string path, string? artifactOverride)
    {
        public string Path { get; } = path;
        public string? Override { get; } = artifactOverride;
        public string? Fingerprint { get; set; }
        public DateTimeOffset NextCheck { get; set; }
        public TimeSpan Interval { get; set; }
        public FileSystemWatcher? Watcher { get; set; }

        /// <summary>Set by the FileSystemWatcher's thread: look at the next round whatever the back-off says.</summary>
        public volatile bool Due;
    }

    /// <summary>Starts (or keeps) watching the folder of one InferenceService; the current content is the baseline.</summary>
    public void Track(string key, ArtifactLocation location, string? artifactOverride)
    {
        if (folders.TryGetValue(key, out var existing) && existing.Path == location.Target && existing.Override == artifactOverride)
        {
            return;
        }

        var folder = new Folder(location.Target, artifactOverride)
        {
            Fingerprint = Fingerprint(location.Target, artifactOverride),
            Interval = options.CurrentValue.ArtifactPollInterval,
            NextCheck = time.GetUtcNow() + options.CurrentValue.ArtifactPollInterval,
        };
        folder.Watcher = TryWatch(key, folder);
        if (folders.TryGetValue(key, out var replaced))
        {
            replaced.Watcher?.Dispose();
        }

        folders[key] = folder;
    }

    public void Forget(string key)
    {
        if (folders.TryRemove(key, out var folder))
        {
            folder.Watcher?.Dispose();
        }
    }

    /// <summary>The fingerprint last seen for the InferenceService's folder (null when not tracked).</summary>
    public string? CurrentFingerprint(string key) => folders.TryGetValue(key, out var folder) ? folder.Fingerprint : null;

    /// <summary>Polls until cancelled; calls <paramref name="changed"/> with the key whenever a folder's fingerprint changes.</summary>
    public async Task RunAsync(Func<bool> active, Action<string> changed, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var settings = options.CurrentValue;
            var now = time.GetUtcNow();
            var next = now + settings.ArtifactPollMaxInterval;
            foreach (var (key, folder) in folders)
            {
                var woken = folder.Due;
                folder.Due = false;
                if (!woken && folder.NextCheck > now)
                {
                    next = folder.NextCheck < next ? folder.NextCheck : next;
                    continue;
                }

                var fingerprint = Fingerprint(folder.Path, folder.Override);
                if (fingerprint != folder.Fingerprint)
                {
                    if (Directory.Exists(folder.Path) && folder.Watcher?.Path != folder.Path)
                    {
                        // The folder appeared (its parent was watched, or nothing): watch the folder itself from now on.
                        folder.Watcher?.Dispose();
                        folder.Watcher = TryWatch(key, folder);
                    }

                    folder.Fingerprint = fingerprint;
                    folder.Interval = settings.ArtifactPollInterval;
                    if (active())
                    {
                        logger.LogInformation("The model folder {Folder} of {Key} changed", folder.Path, key);
                        changed(key);
                    }
                }
                else if (!woken)
                {
                    // Nothing changed: look less often, up to the maximum (the watcher still wakes us early).
                    var doubled = folder.Interval * 2;
                    folder.Interval = doubled > settings.ArtifactPollMaxInterval ? settings.ArtifactPollMaxInterval : doubled;
                }

                folder.NextCheck = now + folder.Interval;
                next = folder.NextCheck < next ? folder.NextCheck : next;
            }

            var delay = next - time.GetUtcNow();
            using var timeout = new CancellationTokenSource(delay > TimeSpan.Zero ? delay : TimeSpan.Zero, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                await wake.WaitAsync(linked.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // the next check is due
            }
            catch (OperationCanceledException)
            {
                return; // the service is stopping
            }
        }
    }

    /// <summary>Model files directly in the folder (or the named file), with sizes and times: changes when any is written, added or removed.</summary>
    internal static string Fingerprint(string target, string? artifactOverride)
    {
        try
        {
            IEnumerable<string> files;
            if (File.Exists(target))
            {
                files = [target];
            }
            else if (!Directory.Exists(target))
            {
                return "no-folder";
            }
            else if (artifactOverride is not null)
            {
                files = [Path.Combine(target, artifactOverride)];
            }
            else
            {
                files = Directory.EnumerateFiles(target)
                    .Where(file => ArtifactWaiter.ModelExtensions.Any(extension => file.EndsWith(extension, StringComparison.Ordinal)));
            }

            var text = new StringBuilder();
            foreach (var file in files.Order(StringComparer.Ordinal))
            {
                var info = new FileInfo(file);
                if (info.Exists)
                {
                    text.Append(CultureInfo.InvariantCulture, $"{info.Name}:{info.Length}:{info.LastWriteTimeUtc.Ticks}:{info.CreationTimeUtc.Ticks};");
                }
            }

            return text.Length == 0 ? "no-file" : text.ToString();
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return "unreadable:" + error.GetType().Name;
        }
    }

    internal static bool HasModelFile(string fingerprint) => fingerprint is not ("no-folder" or "no-file") && !fingerprint.StartsWith("unreadable:", StringComparison.Ordinal);

    private FileSystemWatcher? TryWatch(string key, Folder folder)
    {
        var directory = Directory.Exists(folder.Path) ? folder.Path : System.IO.Path.GetDirectoryName(folder.Path);
        if (directory is null || !Directory.Exists(directory))
        {
            return null; // polling alone until the folder exists
        }

        try
        {
            var watcher = new FileSystemWatcher(directory)
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.LastWrite | NotifyFilters.DirectoryName,
                IncludeSubdirectories = false,
            };
            FileSystemEventHandler onChange = (_, _) => WakeNow(key);
            watcher.Changed += onChange;
            watcher.Created += onChange;
            watcher.Deleted += onChange;
            watcher.Renamed += (_, _) => WakeNow(key);
            watcher.Error += (_, args) => logger.LogDebug(args.GetException(), "File system notifications for {Folder} failed; polling continues.", directory);
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception error) when (error is IOException or ArgumentException or PlatformNotSupportedException or UnauthorizedAccessException)
        {
            logger.LogDebug(error, "No file system notifications for {Folder}; polling only.", directory);
            return null;
        }
    }

    private void WakeNow(string key)
    {
        if (folders.TryGetValue(key, out var folder))
        {
            folder.Due = true;
            wake.Release();
        }
    }

    public void Dispose()
    {
        foreach (var folder in folders.Values)
        {
            folder.Watcher?.Dispose();
        }

        wake.Dispose();
    }
}
