using System.Text.Json.Nodes;

namespace ArgoHooks.Health.Tests;

/// <summary>The NLua environment reproduces Argo CD's gopher-lua environment; each probe runs in both engines.</summary>
public sealed class EnvironmentTests
{
    private static readonly LuaHealthEvaluator Evaluator = new();

    private static (HealthStatus NLua, HealthStatus Gopher) Both(string source, JsonNode? obj = null) =>
        (Evaluator.Evaluate(HealthScript.FromSource("probe.lua", source), obj), GopherLua.EvaluateSource(source, obj));

    [Fact]
    public void Only_base_table_and_package_are_visible()
    {
        const string source = """
            local missing = string == nil and math == nil and os == nil and io == nil and debug == nil and coroutine == nil and utf8 == nil
            local present = type(table.insert) == "function" and type(require) == "function" and type(pairs) == "function"
            if missing and present then return { status = "Healthy", message = "closed" } end
            return { status = "Degraded", message = "open" }
            """;
        var (nlua, gopher) = Both(source);
        Assert.Equal(new HealthStatus("Healthy", "closed"), nlua);
        Assert.Equal(nlua, gopher);
    }

    [Fact]
    public void Strings_have_no_methods()
    {
        var (nlua, gopher) = Both("""return { status = "Healthy", message = ("x"):upper() }""");
        Assert.Equal("Unknown", nlua.Status);
        Assert.Equal("Unknown", gopher.Status);
    }

    [Fact]
    public void Require_os_gives_only_time_and_date()
    {
        const string source = """
            local os = require("os")
            if type(os.time()) == "number" and type(os.date("!%Y")) == "string" and os.exit == nil and os.getenv == nil and os.execute == nil then
              return { status = "Healthy", message = "safe" }
            end
            return { status = "Degraded", message = "unsafe" }
            """;
        var (nlua, gopher) = Both(source);
        Assert.Equal(new HealthStatus("Healthy", "safe"), nlua);
        Assert.Equal(nlua, gopher);
    }

    [Fact]
    public void Integers_print_like_gopher_lua_and_floats_stay_floats()
    {
        var obj = JsonNode.Parse("""{"metadata":{"generation":3},"spec":{"ratio":1.5,"whole":2.0}}""");
        var (nlua, gopher) = Both(
            """return { status = "Healthy", message = tostring(obj.metadata.generation) .. " " .. tostring(obj.spec.ratio) .. " " .. tostring(obj.spec.whole) }""",
            obj);
        Assert.Equal(new HealthStatus("Healthy", "3 1.5 2"), nlua);
        Assert.Equal(nlua, gopher);
    }

    [Fact]
    public void Arrays_are_one_based_and_nulls_are_absent()
    {
        var obj = JsonNode.Parse("""{"list":["a","b"],"gone":null,"nested":{"gone":null}}""");
        var (nlua, gopher) = Both(
            """return { status = "Healthy", message = obj.list[1] .. obj.list[2] .. tostring(obj.gone == nil) .. tostring(next(obj.nested) == nil) }""",
            obj);
        Assert.Equal(new HealthStatus("Healthy", "abtruetrue"), nlua);
        Assert.Equal(nlua, gopher);
    }

    [Fact]
    public void A_runtime_error_is_reported_as_unknown_with_the_error()
    {
        var (nlua, gopher) = Both("""error("boom")""");
        Assert.Equal("Unknown", nlua.Status);
        Assert.Contains("boom", nlua.Message, StringComparison.Ordinal);
        Assert.Equal("Unknown", gopher.Status);
        Assert.Contains("boom", gopher.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_endless_loop_is_stopped_and_reported_as_unknown()
    {
        var (nlua, gopher) = Both("while true do end");
        Assert.Equal(new HealthStatus("Unknown", LuaHealthEvaluator.TimeoutMessage), nlua);
        Assert.Equal("Unknown", gopher.Status);
        Assert.Contains(LuaHealthEvaluator.TimeoutMessage, gopher.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_deadline_passing_inside_a_callback_from_c_waits_for_a_yieldable_point()
    {
        // A clock that moves half a second every time it is read: the deadline passes while the
        // comparator runs inside table.sort (where yielding is impossible); the evaluator must not
        // fail there, and must stop the endless loop that follows.
        const string source = """
            local t = { 5, 4, 3, 2, 1, 6, 7, 8 }
            table.sort(t, function(a, b)
              local i = 0
              while i < 2000 do i = i + 1 end
              return a < b
            end)
            while true do end
            """;
        var evaluator = new LuaHealthEvaluator(new SteppingClock(TimeSpan.FromMilliseconds(500)));

        var result = evaluator.Evaluate(HealthScript.FromSource("sort.lua", source), null);

        Assert.Equal(new HealthStatus("Unknown", LuaHealthEvaluator.TimeoutMessage), result);
    }

    private sealed class SteppingClock(TimeSpan step) : TimeProvider
    {
        private long _now;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Add(ref _now, step.Ticks);
    }

    [Theory]
    [InlineData("return \"Healthy\"", "expect table output from Lua script, not string")]
    [InlineData("local x = 1", "expect table output from Lua script, not nil")]
    [InlineData("return {}", "json: cannot unmarshal array into Go value of type health.HealthStatus")]
    [InlineData("return { status = \"Fine\", message = \"x\" }", LuaHealthEvaluator.InvalidHealthStatusMessage)]
    [InlineData("return { message = \"no status\" }", LuaHealthEvaluator.InvalidHealthStatusMessage)]
    [InlineData("return { status = 5 }", "json: cannot unmarshal number into Go struct field HealthStatus.status")]
    public void Bad_results_become_unknown_as_in_argo_cd(string source, string message)
    {
        var (nlua, gopher) = Both(source);
        Assert.Equal(new HealthStatus("Unknown", message), nlua);
        Assert.Equal(nlua, gopher);
    }

    [Fact]
    public void A_missing_message_is_empty()
    {
        var (nlua, gopher) = Both("""return { status = "Healthy" }""");
        Assert.Equal(new HealthStatus("Healthy", ""), nlua);
        Assert.Equal(nlua, gopher);
    }

    [Fact]
    public void Evaluations_on_many_threads_do_not_interfere()
    {
        var script = HealthScript.InferenceService;
        var cases = HealthCase.All.Where(c => c.ScriptPath == Repository.InferenceServiceScriptPath).ToList();
        var objects = cases.Select(c => c.LoadObject()).ToList();
        var results = new HealthStatus[cases.Count * 4];
        Parallel.For(0, results.Length, i => results[i] = Evaluator.Evaluate(script, objects[i % cases.Count]));
        for (var i = 0; i < results.Length; i++)
        {
            Assert.Equal(cases[i % cases.Count].Expected, results[i]);
        }
    }

    [Fact]
    public void The_embedded_script_is_the_repository_script()
    {
        Assert.Equal(File.ReadAllText(Repository.InferenceServiceScriptPath), HealthScript.InferenceService.Source);
    }

    [Fact]
    public void Evaluate_yaml_reads_kubectl_output()
    {
        var yaml = File.ReadAllText(Path.Combine(Repository.InferenceServiceTestdata, "progressing_no_status.yaml"));
        Assert.Equal("Progressing", Evaluator.EvaluateYaml(HealthScript.InferenceService, yaml).Status);
    }

    [Fact]
    public void The_script_uses_nothing_argo_cd_does_not_provide()
    {
        // The same patterns as the repository's before-stop check.
        var forbidden = new System.Text.RegularExpressions.Regex(
            @"(^|[^.\w])(string|math|io|debug|coroutine|utf8)\.|:(find|sub|format|gsub|match|gmatch|len|upper|lower|rep)\(|(^|[^.\w])os\.|table\.unpack|\bgoto\b|\bunpack\(|//");
        var offending = File.ReadAllLines(Repository.InferenceServiceScriptPath)
            .Select((line, index) => (Line: line, Number: index + 1))
            .Where(l => !l.Line.TrimStart().StartsWith("--", StringComparison.Ordinal) && forbidden.IsMatch(l.Line))
            .Select(l => $"{l.Number}: {l.Line}")
            .ToList();
        Assert.Empty(offending);
    }
}
