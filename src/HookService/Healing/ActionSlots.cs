using ArgoHooks.HookService.Runs;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Healing;

/// <summary>
/// Bounds how many InferenceServices restart, roll out and verify at the same time, across all runs
/// (ArgoHooks:Runs:MaxParallelInferenceServices). Waiting for an artifact is not bounded: it costs a file poll,
/// and holding a slot while a file is still being written would delay InferenceServices whose files are ready.
/// </summary>
public sealed class ActionSlots(IOptions<RunOptions> options) : IDisposable
{
    private readonly SemaphoreSlim slots = new(options.Value.MaxParallelInferenceServices, options.Value.MaxParallelInferenceServices);

    public async Task<IDisposable> AcquireAsync(CancellationToken cancellationToken)
    {
        await slots.WaitAsync(cancellationToken);
        return new Slot(slots);
    }

    public void Dispose() => slots.Dispose();

    private sealed class Slot(SemaphoreSlim slots) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                slots.Release();
            }
        }
    }
}
