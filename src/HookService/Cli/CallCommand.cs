using System.CommandLine;
using ArgoHooks.HookService.Runs;
using Microsoft.Extensions.DependencyInjection;

namespace ArgoHooks.HookService.Cli;

/// <summary>What `argohooks call` was asked to do, validated.</summary>
public sealed record CallSettings(
    Uri Url,
    RunRequest Request,
    string? TokenFile,
    int WaitSeconds,
    TimeSpan GiveUpAfter);

/// <summary>
/// `argohooks call --url URL --namespace NS [--inference-service NAME]... [--run-id ID] [--token-file PATH] [--artifact-timeout SECONDS]`:
/// what the wave-5 Job runs. Exit 0 when the run Succeeded, 1 when it Failed (or the service stayed unreachable), 2 on bad usage.
/// </summary>
public static class CallCommand
{
    public const string DefaultTokenFile = "/var/run/secrets/argohooks/token";

    public static Command Create(TimeProvider time)
    {
        var url = new Option<string?>("--url") { Description = "Base URL of the hook service (env ARGOHOOKS_URL).", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ARGOHOOKS_URL") };
        var @namespace = new Option<string>("--namespace", "-n") { Description = "Namespace of the InferenceServices.", Required = true };
        var names = new Option<string[]>("--inference-service", "-i") { Description = "InferenceService to verify; repeat for several; none = every one with a pvc:// storageUri." };
        var runId = new Option<string?>("--run-id") { Description = "Run id, e.g. the Job's controller uid, so retried pods join the same run (env ARGOHOOKS_RUN_ID).", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ARGOHOOKS_RUN_ID") };
        var tokenFile = new Option<string?>("--token-file") { Description = $"File holding the ServiceAccount token (env ARGOHOOKS_TOKEN_FILE, default {DefaultTokenFile}); read before every request because projected tokens rotate.", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ARGOHOOKS_TOKEN_FILE") };
        var artifactTimeout = new Option<int?>("--artifact-timeout") { Description = "Seconds to wait for each model artifact (1-86400); default: the service's." };
        var waitSeconds = new Option<int>("--wait-seconds") { Description = "Long-poll duration of each status request.", DefaultValueFactory = _ => 30 };
        var giveUp = new Option<int>("--give-up-after") { Description = "Seconds the service may stay unreachable before the call fails.", DefaultValueFactory = _ => 600 };
        var command = new Command("call", "Start a run on the hook service, print each phase change, exit 0 when every InferenceService is Verified.")
        {
            url, @namespace, names, runId, tokenFile, artifactTimeout, waitSeconds, giveUp,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var settings = Validate(
                parseResult.GetValue(url), parseResult.GetValue(@namespace), parseResult.GetValue(names) ?? [],
                parseResult.GetValue(runId), parseResult.GetValue(tokenFile), parseResult.GetValue(artifactTimeout),
                parseResult.GetValue(waitSeconds), parseResult.GetValue(giveUp), out var usageError);
            if (settings is null)
            {
                await error.WriteLineAsync(usageError);
                return CommandLine.UsageError;
            }

            return await RunAsync(settings, output, error, time, cancellationToken);
        });
        return command;
    }

    /// <summary>Runs the call with a typed HttpClient; tests call this directly too.</summary>
    public static async Task<int> RunAsync(CallSettings settings, TextWriter output, TextWriter error, TimeProvider time, CancellationToken cancellationToken)
    {
        var services = new ServiceCollection();
        services.AddHttpClient<HookServiceClient>(client =>
        {
            client.BaseAddress = settings.Url;
            client.Timeout = TimeSpan.FromSeconds(settings.WaitSeconds + 30);
        }).ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.FromMinutes(1) });
        await using var provider = services.BuildServiceProvider();
        var follower = new RunFollower(provider.GetRequiredService<HookServiceClient>(), settings, output, error, time);
        return await follower.RunAsync(cancellationToken);
    }

    internal static CallSettings? Validate(
        string? url, string? @namespace, string[] names, string? runId, string? tokenFile, int? artifactTimeout,
        int waitSeconds, int giveUpAfter, out string usageError)
    {
        usageError = "";
        if (string.IsNullOrWhiteSpace(url) || !Uri.TryCreate(url.EndsWith('/') ? url : url + "/", UriKind.Absolute, out var baseUrl)
            || baseUrl.Scheme is not ("http" or "https"))
        {
            usageError = "--url (or ARGOHOOKS_URL) must be the hook service's http(s) base URL, e.g. http://argohooks.argohooks.svc:8080.";
            return null;
        }

        if (!RunRequestReader.IsDns1123Label(@namespace))
        {
            usageError = $"--namespace \"{@namespace}\" is not a namespace name (lowercase letters, digits and '-', at most 63).";
            return null;
        }

        var invalid = names.FirstOrDefault(name => !RunRequestReader.IsDns1123Label(name));
        if (invalid is not null)
        {
            usageError = $"--inference-service \"{invalid}\" is not an InferenceService name (lowercase letters, digits and '-', at most 63).";
            return null;
        }

        if (names.Distinct(StringComparer.Ordinal).Count() != names.Length)
        {
            usageError = "--inference-service lists a name twice; list each InferenceService once.";
            return null;
        }

        if (names.Length > RunRequestReader.MaxInferenceServices)
        {
            usageError = $"At most {RunRequestReader.MaxInferenceServices} --inference-service per run.";
            return null;
        }

        if (string.IsNullOrEmpty(runId))
        {
            runId = Guid.NewGuid().ToString("N"); // fixed for this call, so re-POSTs after a service restart resume the same run
        }
        else if (!RunRequestReader.IsRunId(runId))
        {
            usageError = $"--run-id \"{runId}\" is not a run id (lowercase letters, digits and '-', at most 63).";
            return null;
        }

        if (artifactTimeout is < 1 or > RunRequestReader.MaxArtifactTimeoutSeconds)
        {
            usageError = $"--artifact-timeout must be from 1 to {RunRequestReader.MaxArtifactTimeoutSeconds} seconds.";
            return null;
        }

        if (waitSeconds is < 0 or > 3600 || giveUpAfter < 1)
        {
            usageError = "--wait-seconds must be from 0 to 3600 and --give-up-after at least 1.";
            return null;
        }

        if (tokenFile is not null && !File.Exists(tokenFile))
        {
            usageError = $"The token file {tokenFile} does not exist; mount a projected ServiceAccount token there or pass --token-file.";
            return null;
        }

        return new CallSettings(baseUrl, new RunRequest(@namespace!, names, runId, artifactTimeout),
            tokenFile ?? (File.Exists(DefaultTokenFile) ? DefaultTokenFile : null), waitSeconds, TimeSpan.FromSeconds(giveUpAfter));
    }
}
