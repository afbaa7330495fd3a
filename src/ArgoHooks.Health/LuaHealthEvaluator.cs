using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using KeraLua;
using LuaState = KeraLua.Lua;

namespace ArgoHooks.Health;

/// <summary>
/// Runs health scripts the way Argo CD runs an argocd-cm health customization, on Lua 5.4
/// (KeraLua, the native layer of NLua): only the base, table and package libraries are
/// visible, <c>require("os")</c> yields only <c>time</c> and <c>date</c>, strings have no
/// methods, JSON integers become Lua integers (so they print like gopher-lua's numbers),
/// JSON nulls are absent, and a script gets one second. Thread-safe: every evaluation uses
/// its own Lua state.
/// </summary>
public sealed class LuaHealthEvaluator
{
    /// <summary>Argo CD cancels a health script after one second.</summary>
    public static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(1);

    /// <summary>The message Argo CD reports when a script returns a status it does not know.</summary>
    public const string InvalidHealthStatusMessage = "Lua returned an invalid health status";

    /// <summary>The message reported when a script ran out of time (gopher-lua's context error).</summary>
    public const string TimeoutMessage = "context deadline exceeded";

    private const int InstructionsBetweenClockChecks = 1000;

    private static readonly HashSet<string> ValidStatuses =
        ["Unknown", "Progressing", "Suspended", "Healthy", "Degraded", "Missing"];

    // Runs once per state, with every library open, to take away what Argo CD does not give
    // a script. The table library also carries time/date because Argo CD registers its safe
    // os functions under the table library's name.
    private const string Sandbox = """
        local time, date = os.time, os.date
        local safeOs = { time = time, date = date }
        table.time, table.date = time, date
        for _, name in ipairs({ "string", "math", "io", "os", "debug", "coroutine", "utf8" }) do
          _G[name] = nil
          package.loaded[name] = nil
        end
        package.preload.os = function() return safeOs end
        """;

    private readonly TimeProvider _timeProvider;

    /// <summary>An evaluator measuring the time limit with the system clock.</summary>
    public LuaHealthEvaluator()
        : this(TimeProvider.System)
    {
    }

    /// <summary>An evaluator measuring the time limit with <paramref name="timeProvider"/>.</summary>
    public LuaHealthEvaluator(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _timeProvider = timeProvider;
    }

    /// <summary>Evaluates <paramref name="script"/> with <paramref name="obj"/> as the global <c>obj</c>.</summary>
    public HealthStatus Evaluate(HealthScript script, JsonNode? obj)
    {
        ArgumentNullException.ThrowIfNull(script);
        using var state = new LuaState(openLibs: true) { Encoding = Encoding.UTF8 };

        if (state.DoString(Sandbox))
        {
            throw new InvalidOperationException("Cannot prepare the Lua sandbox: " + state.ToString(-1));
        }
        RemoveStringMethods(state);

        state.CheckStack(8);
        PushJson(state, obj);
        state.SetGlobal("obj");

        var thread = state.NewThread();
        thread.Encoding = Encoding.UTF8;
        if (thread.LoadString(script.Source, "=" + script.Name) != LuaStatus.OK)
        {
            return new HealthStatus("Unknown", thread.ToString(-1) ?? "the script does not compile");
        }

        // The count hook yields once the deadline has passed. lua_yield from a count hook is
        // allowed in Lua 5.4 and returns normally into C, so no Lua error or longjmp ever
        // crosses this managed callback; Resume then reports LUA_YIELD, which means timeout.
        // Where yielding is impossible (Lua code called back by a C function such as a
        // table.sort comparator) lua_yield would raise an error through this callback, so the
        // hook waits for the next instruction count in yieldable code instead.
        var startedAt = _timeProvider.GetTimestamp();
        LuaHookFunction hook = (_, _) =>
        {
            if (thread.IsYieldable && _timeProvider.GetElapsedTime(startedAt) > ScriptTimeout)
            {
                thread.Yield(0);
            }
        };
        thread.SetHook(hook, LuaHookMask.Count, InstructionsBetweenClockChecks);
        var status = thread.Resume(state, 0, out var results);
        GC.KeepAlive(hook);

        return status switch
        {
            LuaStatus.OK => ToHealthStatus(thread, results),
            LuaStatus.Yield => new HealthStatus("Unknown", TimeoutMessage),
            _ => new HealthStatus("Unknown", thread.ToString(-1) ?? status.ToString()),
        };
    }

    /// <summary>Evaluates the script on the (single) object of a YAML or JSON document.</summary>
    public HealthStatus EvaluateYaml(HealthScript script, string yaml)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var documents = YamlObjects.Parse(yaml);
        if (documents.Count != 1)
        {
            throw new FormatException($"Expected exactly one YAML document, found {documents.Count}.");
        }
        return Evaluate(script, documents[0]);
    }

    // Without the string library Lua 5.4 has no string metatable, but set it explicitly to nil
    // so that ("x"):upper() fails exactly as in gopher-lua without the string library.
    private static void RemoveStringMethods(LuaState state)
    {
        state.PushString(string.Empty);
        state.PushNil();
        state.SetMetaTable(-2);
        state.Pop(1);
    }

    // Argo CD reads the returned table through a JSON round trip into {status, message}.
    private static HealthStatus ToHealthStatus(LuaState thread, int results)
    {
        if (results == 0)
        {
            return new HealthStatus("Unknown", "expect table output from Lua script, not nil");
        }
        var type = thread.Type(-1);
        if (type != LuaType.Table)
        {
            return new HealthStatus("Unknown", $"expect table output from Lua script, not {thread.TypeName(type)}");
        }
        if (thread.RawLen(-1) > 0 || IsEmptyTable(thread))
        {
            // Argo CD's JSON encoder turns such a table into a JSON array, which does not unmarshal.
            return new HealthStatus("Unknown", "json: cannot unmarshal array into Go value of type health.HealthStatus");
        }
        if (!TryReadStringField(thread, "status", out var status, out var error)
            || !TryReadStringField(thread, "message", out var message, out error))
        {
            return new HealthStatus("Unknown", error);
        }
        return ValidStatuses.Contains(status)
            ? new HealthStatus(status, message)
            : new HealthStatus("Unknown", InvalidHealthStatusMessage);
    }

    private static bool IsEmptyTable(LuaState thread)
    {
        thread.PushNil();
        if (!thread.Next(-2))
        {
            return true;
        }
        thread.Pop(2);
        return false;
    }

    private static bool TryReadStringField(LuaState thread, string name, out string value, out string error)
    {
        thread.PushString(name);
        var type = thread.RawGet(-2);
        try
        {
            switch (type)
            {
                case LuaType.Nil:
                    value = string.Empty;
                    error = string.Empty;
                    return true;
                case LuaType.String:
                    value = thread.ToString(-1) ?? string.Empty;
                    error = string.Empty;
                    return true;
                default:
                    value = string.Empty;
                    error = $"json: cannot unmarshal {thread.TypeName(type)} into Go struct field HealthStatus.{name}";
                    return false;
            }
        }
        finally
        {
            thread.Pop(1);
        }
    }

    private static void PushJson(LuaState state, JsonNode? node)
    {
        switch (node)
        {
            case null:
                state.PushNil();
                break;
            case JsonObject map:
                state.CheckStack(4);
                state.CreateTable(0, map.Count);
                foreach (var (key, value) in map)
                {
                    if (value is null)
                    {
                        continue; // JSON null: the key is absent, as in Argo CD.
                    }
                    state.PushString(key);
                    PushJson(state, value);
                    state.RawSet(-3);
                }
                break;
            case JsonArray list:
                state.CheckStack(4);
                state.CreateTable(list.Count, 0);
                for (var i = 0; i < list.Count; i++)
                {
                    if (list[i] is { } item)
                    {
                        PushJson(state, item);
                        state.RawSetInteger(-2, i + 1);
                    }
                }
                break;
            case JsonValue value:
                PushScalar(state, value);
                break;
            default:
                throw new NotSupportedException($"Unsupported JSON node {node.GetType().Name}.");
        }
    }

    private static void PushScalar(LuaState state, JsonValue value)
    {
        var element = value.TryGetValue(out JsonElement existing) ? existing : JsonSerializer.SerializeToElement(value);
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                state.PushString(element.GetString());
                break;
            case JsonValueKind.True:
                state.PushBoolean(true);
                break;
            case JsonValueKind.False:
                state.PushBoolean(false);
                break;
            case JsonValueKind.Number:
                PushNumber(state, element);
                break;
            default:
                state.PushNil();
                break;
        }
    }

    // gopher-lua numbers are float64 but print integral values without a fraction ("3");
    // Lua 5.4 prints integral floats as "3.0", so integral values become Lua integers.
    private static void PushNumber(LuaState state, JsonElement number)
    {
        if (number.TryGetInt64(out var integer))
        {
            state.PushInteger(integer);
            return;
        }
        var real = number.GetDouble();
        if (Math.Floor(real) == real && real >= long.MinValue && real < long.MaxValue)
        {
            state.PushInteger((long)real);
            return;
        }
        state.PushNumber(real);
    }
}
