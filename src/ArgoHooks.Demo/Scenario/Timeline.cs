using System.Globalization;

namespace ArgoHooks.Demo.Scenario;

/// <summary>Prints timestamped lines relative to the scenario's start, from several tasks at once.</summary>
public sealed class Timeline(TextWriter output, TimeProvider time)
{
    private readonly long started = time.GetTimestamp();
    private readonly Lock gate = new();
    private readonly List<TimelineEntry> entries = [];

    public IReadOnlyList<TimelineEntry> Entries
    {
        get { lock (gate) return [.. entries]; }
    }

    public TimeSpan Elapsed => time.GetElapsedTime(started);

    /// <param name="source">Who speaks: "sync", "argocd", "probe", "job", a resource name.</param>
    public void Write(string source, string subject, string text)
    {
        var elapsed = Elapsed;
        lock (gate)
        {
            entries.Add(new TimelineEntry(elapsed, source, subject, text));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{elapsed.TotalSeconds,7:0.0}s  {source,-7} {subject,-22} {text}"));
        }
    }

    /// <summary>A writer whose every line becomes a timeline entry (for the Job client's output).</summary>
    public TextWriter LinesOf(string source, string subject) => new LineWriter(line => Write(source, subject, line));

    /// <summary>Collects characters and hands over each complete line, however the caller writes them.</summary>
    private sealed class LineWriter(Action<string> onLine) : TextWriter
    {
        private readonly System.Text.StringBuilder pending = new();

        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value)
        {
            lock (pending)
            {
                if (value != '\n')
                {
                    pending.Append(value);
                    return;
                }

                var line = pending.ToString().TrimEnd('\r');
                pending.Clear();
                if (line.Length > 0)
                {
                    onLine(line);
                }
            }
        }

        public override void Write(string? value)
        {
            foreach (var character in value ?? "")
            {
                Write(character);
            }
        }

        public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

        public override Task WriteAsync(char value)
        {
            Write(value);
            return Task.CompletedTask;
        }

        public override Task WriteAsync(string? value)
        {
            Write(value);
            return Task.CompletedTask;
        }

        public override Task WriteLineAsync(string? value)
        {
            WriteLine(value);
            return Task.CompletedTask;
        }
    }
}

public sealed record TimelineEntry(TimeSpan At, string Source, string Subject, string Text);
