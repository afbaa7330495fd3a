// Command gopher-lua-runner evaluates an Argo CD health script the way Argo CD's
// util/lua package does: gopher-lua with only the package, base and table libraries
// opened, a "safe" os module (time and date only) reachable through require("os"),
// a 1 second context deadline, and the object decoded the way decodeValue does
// (every JSON number becomes an LNumber, JSON null becomes nil).
//
// Usage: gopher-lua-runner SCRIPT < objects.jsonl
// Each stdin line is one JSON value (the object); each stdout line is one verdict
// {"status": "...", "message": "..."}. Errors become status Unknown with the error
// text as message, as the Argo CD application controller reports them.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/ioutil"
	"os"
	"strconv"
	"time"

	lua "github.com/yuin/gopher-lua"
)

const scriptTimeout = time.Second

var validStatuses = map[string]bool{
	"Unknown": true, "Progressing": true, "Suspended": true, "Healthy": true, "Degraded": true, "Missing": true,
}

type verdict struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gopher-lua-runner SCRIPT < objects.jsonl")
		os.Exit(2)
	}
	source, err := ioutil.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot read script: %v\n", err)
		os.Exit(2)
	}
	script := string(source)

	in := bufio.NewReader(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	encoder := json.NewEncoder(out)
	for {
		line, readErr := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			result := evaluate(script, line)
			if err := encoder.Encode(result); err != nil {
				fmt.Fprintf(os.Stderr, "cannot write verdict: %v\n", err)
				os.Exit(2)
			}
			out.Flush()
		}
		if readErr != nil {
			return
		}
	}
}

func evaluate(script string, objectJSON []byte) verdict {
	decoder := json.NewDecoder(bytes.NewReader(objectJSON))
	decoder.UseNumber()
	var object interface{}
	if err := decoder.Decode(&object); err != nil {
		return verdict{"Unknown", "invalid input JSON: " + err.Error()}
	}
	object = unstructuredNumbers(object)

	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.OsLibName, openSafeOs},
	} {
		if err := L.CallByParam(lua.P{Fn: L.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return verdict{"Unknown", err.Error()}
		}
	}
	L.PreloadModule(lua.OsLibName, safeOsLoader)

	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	L.SetContext(ctx)
	L.SetGlobal("obj", decodeValue(L, object))
	if err := L.DoString(script); err != nil {
		return verdict{"Unknown", err.Error()}
	}
	return toVerdict(L.Get(-1))
}

// unstructuredNumbers turns json.Number into int64 or float64, as Kubernetes' unstructured decoding does.
func unstructuredNumbers(value interface{}) interface{} {
	switch v := value.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return i
		}
		f, _ := strconv.ParseFloat(string(v), 64)
		return f
	case []interface{}:
		for i := range v {
			v[i] = unstructuredNumbers(v[i])
		}
		return v
	case map[string]interface{}:
		for k := range v {
			v[k] = unstructuredNumbers(v[k])
		}
		return v
	}
	return value
}

// decodeValue mirrors Argo CD's conversion of the object into Lua values.
func decodeValue(L *lua.LState, value interface{}) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []interface{}:
		array := L.CreateTable(len(v), 0)
		for _, item := range v {
			array.Append(decodeValue(L, item))
		}
		return array
	case map[string]interface{}:
		table := L.CreateTable(0, len(v))
		for key, item := range v {
			table.RawSetH(lua.LString(key), decodeValue(L, item))
		}
		return table
	}
	return lua.LNil
}

// toVerdict follows ExecuteHealthLua: a table is read as {status, message} (as the JSON
// round trip would), anything else is an error; an unknown status becomes Unknown.
func toVerdict(value lua.LValue) verdict {
	table, ok := value.(*lua.LTable)
	if !ok {
		return verdict{"Unknown", fmt.Sprintf("expect table output from Lua script, not %s", value.Type().String())}
	}
	if table.Len() > 0 || isEmpty(table) {
		// Argo CD's JSON encoder turns such a table into a JSON array, which does not unmarshal.
		return verdict{"Unknown", "json: cannot unmarshal array into Go value of type health.HealthStatus"}
	}
	status, err := stringField(table, "status")
	if err != nil {
		return verdict{"Unknown", err.Error()}
	}
	message, err := stringField(table, "message")
	if err != nil {
		return verdict{"Unknown", err.Error()}
	}
	if !validStatuses[status] {
		return verdict{"Unknown", "Lua returned an invalid health status"}
	}
	return verdict{status, message}
}

func isEmpty(table *lua.LTable) bool {
	key, _ := table.Next(lua.LNil)
	return key == lua.LNil
}

func stringField(table *lua.LTable, name string) (string, error) {
	switch v := table.RawGetString(name).(type) {
	case *lua.LNilType:
		return "", nil
	case lua.LString:
		return string(v), nil
	default:
		return "", fmt.Errorf("json: cannot unmarshal %s into Go struct field HealthStatus.%s", v.Type().String(), name)
	}
}

// The safe os module of Argo CD: only time and date. Like Argo CD it is registered by
// the library loop and preloaded so that require("os") returns it.
var safeOsFunctions = map[string]lua.LGFunction{"time": osTime, "date": osDate}

func openSafeOs(L *lua.LState) int {
	// Argo CD registers these functions under the table library's name, so no global os exists.
	module := L.RegisterModule(lua.TabLibName, safeOsFunctions)
	L.Push(module)
	return 1
}

func safeOsLoader(L *lua.LState) int {
	L.Push(L.SetFuncs(L.NewTable(), safeOsFunctions))
	return 1
}

func osTime(L *lua.LState) int {
	L.Push(lua.LNumber(time.Now().Unix()))
	return 1
}

// osDate supports the forms a health script may need: no argument, "!%Y-%m-%dT%H:%M:%SZ"-style
// formats with %Y %m %d %H %M %S, and an optional epoch second.
func osDate(L *lua.LState) int {
	now := time.Now()
	format := "%c"
	if L.GetTop() >= 1 {
		format = L.CheckString(1)
	}
	if len(format) > 0 && format[0] == '!' {
		now = now.UTC()
		format = format[1:]
	}
	if L.GetTop() >= 2 {
		now = time.Unix(L.CheckInt64(2), 0).UTC()
	}
	layouts := map[byte]string{'Y': "2006", 'm': "01", 'd': "02", 'H': "15", 'M': "04", 'S': "05", 'c': "02 Jan 06 15:04 MST"}
	var result bytes.Buffer
	for i := 0; i < len(format); i++ {
		if format[i] == '%' && i+1 < len(format) {
			if layout, ok := layouts[format[i+1]]; ok {
				result.WriteString(now.Format(layout))
				i++
				continue
			}
		}
		result.WriteByte(format[i])
	}
	L.Push(lua.LString(result.String()))
	return 1
}
