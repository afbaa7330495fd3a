using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Continuous;

/// <summary>Bounds how many automatic restart/verify actions run at once: globally and per namespace.</summary>
public sealed class ContinuousGuardRails(IOptions<ContinuousOptions> options)
{
    private readonly SemaphoreSlim global = new(options.Value.MaxConcurrentRestarts, options.Value.MaxConcurrentRestarts);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> perNamespace = new(StringComparer.Ordinal);

    /// <summary>Waits for a slot in the namespace and globally; dispose the result to free both.</summary>
    public async Task<IDisposable> AcquireAsync(string @namespace, CancellationToken cancellationToken)
    {
        var limit = options.Value.MaxConcurrentRestartsPerNamespace;
        var local = perNamespace.GetOrAdd(@namespace, _ => new SemaphoreSlim(limit, limit));
        // Namespace first: an action queued behind its own namespace does not hold a global slot meanwhile.
        await local.WaitAsync(cancellationToken);
        try
        {
            await global.WaitAsync(cancellationToken);
        }
        catch
        {
            local.Release();
            throw;
        }

        return new Slot(local, global);
    }

    /// <summary>Free slots (for tests and diagnostics).</summary>
    public int FreeGlobalSlots => global.CurrentCount;

    private sealed class Slot(SemaphoreSlim local, SemaphoreSlim global) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                global.Release();
                local.Release();
            }
        }
    }
}
