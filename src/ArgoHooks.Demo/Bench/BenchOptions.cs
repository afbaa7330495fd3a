namespace ArgoHooks.Demo.Bench;

/// <summary>The knobs of `argohooks-demo bench`; the defaults are the README's figures.</summary>
public sealed class BenchOptions
{
    public const string Namespace = "bench";
    public const string Claim = "models";

    /// <summary>Numbers of InferenceServices, each measured separately.</summary>
    public IReadOnlyList<int> Sizes { get; init; } = [2, 20, 100];

    /// <summary>Repetitions per size (the median is printed) for sizes below <see cref="LargeSize"/>.</summary>
    public int Repetitions { get; init; } = 3;

    /// <summary>From this size on, <see cref="LargeRepetitions"/> applies (the sequential baseline takes minutes there).</summary>
    public int LargeSize { get; init; } = 100;

    public int LargeRepetitions { get; init; } = 1;

    /// <summary>How long a simulated predictor takes from pod creation to listening (and looking for its model, once).</summary>
    public TimeSpan PredictorStartupDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>One artifact starts being written every this long.</summary>
    public TimeSpan Stagger { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Each artifact is written in <see cref="WriteChunks"/> writes spread over this long (a copy, not an atomic rename).</summary>
    public TimeSpan WriteDuration { get; init; } = TimeSpan.FromMilliseconds(500);

    public int WriteChunks { get; init; } = 5;

    /// <summary>After everyone waits and before the first artifact appears: the window in which API requests are counted as polling.</summary>
    public TimeSpan QuietPeriod { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The baseline's `sleep` between looks for model.pkl.</summary>
    public TimeSpan BaselinePollInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>ArgoHooks:Artifacts:SettleInterval for the service; null = the product default.</summary>
    public TimeSpan? SettleInterval { get; init; }

    /// <summary>ArgoHooks:Artifacts:PollInterval; null = the product default.</summary>
    public TimeSpan? PollInterval { get; init; }

    /// <summary>ArgoHooks:Runs:MaxParallelInferenceServices; null = the product default.</summary>
    public int? MaxParallel { get; init; }

    /// <summary>How often the witness samples the emulator's state (the resolution of every latency figure).</summary>
    public TimeSpan WitnessInterval { get; init; } = TimeSpan.FromMilliseconds(25);

    /// <summary>Bound on one contender's run.</summary>
    public TimeSpan RunTimeout { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Measure the published service as a child process.</summary>
    public bool Footprint { get; init; } = true;

    /// <summary>InferenceServices of the run driven against the child process.</summary>
    public int FootprintModels { get; init; } = 100;

    /// <summary>After the footprint run: sustained runs against the child process for this long (zero = none), to see whether its memory stays flat.</summary>
    public TimeSpan FootprintLoadDuration { get; init; } = TimeSpan.FromMinutes(2);

    public int FootprintLoadRunsPerMinute { get; init; } = 200;

    /// <summary>A folder already holding a published argohooks; null = publish now into a temporary folder.</summary>
    public string? PublishDirectory { get; init; }

    public bool HealthCost { get; init; } = true;

    /// <summary>How long each Lua engine is measured.</summary>
    public TimeSpan HealthCostDuration { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Repository root (for health.lua testdata, the gopher-lua runner and the service project); found from the working directory when null.</summary>
    public string? RepositoryRoot { get; init; }

    /// <summary>A preset for tests: small sizes, short delays, one repetition, no footprint, a short health-cost run.</summary>
    public static BenchOptions Quick => new()
    {
        Sizes = [3],
        Repetitions = 1,
        PredictorStartupDelay = TimeSpan.FromMilliseconds(300),
        Stagger = TimeSpan.FromMilliseconds(50),
        WriteDuration = TimeSpan.FromMilliseconds(100),
        WriteChunks = 2,
        QuietPeriod = TimeSpan.FromMilliseconds(500),
        BaselinePollInterval = TimeSpan.FromMilliseconds(500),
        SettleInterval = TimeSpan.FromMilliseconds(300),
        PollInterval = TimeSpan.FromMilliseconds(50),
        RunTimeout = TimeSpan.FromSeconds(60),
        Footprint = false,
        HealthCostDuration = TimeSpan.FromMilliseconds(300),
    };

    public int RepetitionsFor(int size) => size >= LargeSize ? LargeRepetitions : Repetitions;

    public void Validate()
    {
        if (Sizes.Count == 0 || Sizes.Any(size => size is < 1 or > 500))
        {
            throw new ArgumentException("--sizes must list numbers of InferenceServices from 1 to 500.", nameof(Sizes));
        }

        if (Repetitions < 1 || LargeRepetitions < 1)
        {
            throw new ArgumentException("--repetitions must be at least 1.", nameof(Repetitions));
        }

        if (PredictorStartupDelay < TimeSpan.Zero || Stagger < TimeSpan.Zero || WriteDuration < TimeSpan.Zero || QuietPeriod < TimeSpan.Zero)
        {
            throw new ArgumentException("--startup-delay, --stagger, --write-duration and --quiet-period must not be negative.", nameof(PredictorStartupDelay));
        }

        if (BaselinePollInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException("--baseline-poll must be positive.", nameof(BaselinePollInterval));
        }
    }
}
