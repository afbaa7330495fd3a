using System.CommandLine;

namespace ArgoHooks.SyncLayout;

/// <summary>
/// `argohooks check-layout [FILE|-]... [--output human|json] [--audience AUDIENCE]`: reads rendered manifests and reports,
/// before anything is deployed, how Argo CD will order the model writers, the InferenceServices and the verification Job.
/// Exit 0 when fine (warnings allowed), 1 on errors such as a deadlock, 2 when the input cannot be read.
/// </summary>
public static class SyncLayoutCommand
{
    public const string StandardInputName = "-";

    /// <param name="standardInput">Where `-` reads from; null = the process's standard input (tests pass their own).</param>
    public static Command Create(TextReader? standardInput = null)
    {
        var files = new Argument<string[]>("files")
        {
            Description = "Rendered manifests (multi-document YAML or kind: List); - for standard input, which is also the default when input is piped.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var output = new Option<string>("--output", "-o") { Description = "human (a table) or json.", DefaultValueFactory = _ => "human" };
        output.AcceptOnlyFromAmong("human", "json");
        var audience = new Option<string>("--audience") { Description = "The audience the hook service accepts (ArgoHooks:Security:Audience).", DefaultValueFactory = _ => CheckOptions.DefaultAudience };
        audience.Validators.Add(result =>
        {
            if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>()))
            {
                result.AddError("--audience must not be empty.");
            }
        });

        var command = new Command("check-layout", "Check rendered manifests for sync-wave deadlocks, misplaced or missing verification Jobs and their tokens, before Argo CD syncs them.")
        {
            files, output, audience,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            var inputs = parseResult.GetValue(files) ?? [];
            if (inputs.Length == 0)
            {
                if (standardInput is null && !Console.IsInputRedirected)
                {
                    await error.WriteLineAsync("check-layout: name the rendered manifests (files, or - for standard input), e.g. helm template . | argohooks check-layout -");
                    return LayoutReport.ExitUnreadableInput;
                }

                inputs = [StandardInputName];
            }

            var objects = new List<ManifestObject>();
            foreach (var input in inputs)
            {
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    objects.AddRange(await ReadAsync(input, standardInput, cancellationToken));
                }
                catch (ManifestReadException problem)
                {
                    await error.WriteLineAsync($"check-layout: {problem.Message}");
                    return LayoutReport.ExitUnreadableInput;
                }
                catch (Exception problem) when (problem is IOException or UnauthorizedAccessException)
                {
                    await error.WriteLineAsync($"check-layout: {input}: cannot read it: {problem.Message}");
                    return LayoutReport.ExitUnreadableInput;
                }
            }

            if (objects.Count == 0)
            {
                await error.WriteLineAsync($"check-layout: {string.Join(", ", inputs.Select(Describe))}: no Kubernetes objects in the input; did the render fail?");
                return LayoutReport.ExitUnreadableInput;
            }

            var report = LayoutReport.Create(LayoutBuilder.Build(objects), new CheckOptions(parseResult.GetValue(audience)!));
            var text = parseResult.GetValue(output) == "json" ? report.ToJson() : report.ToHuman();
            await parseResult.InvocationConfiguration.Output.WriteAsync(text);
            return report.ExitCode;
        });
        return command;
    }

    private static string Describe(string input) => input == StandardInputName ? "<stdin>" : input;

    private static async Task<IReadOnlyList<ManifestObject>> ReadAsync(string input, TextReader? standardInput, CancellationToken cancellationToken)
    {
        string text;
        if (input == StandardInputName)
        {
            text = await (standardInput ?? Console.In).ReadToEndAsync(cancellationToken);
        }
        else
        {
            if (Directory.Exists(input))
            {
                throw new ManifestReadException(input, 0, "is a folder; render it first (kubectl kustomize, helm template) and pass the result");
            }

            text = await File.ReadAllTextAsync(input, cancellationToken);
        }

        using var reader = new StringReader(text);
        return ManifestReader.Read(reader, Describe(input));
    }
}
