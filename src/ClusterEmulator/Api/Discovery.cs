using System.Text.Json.Nodes;
using ArgoHooks.ClusterEmulator.Store;

namespace ArgoHooks.ClusterEmulator.Api;

/// <summary>The legacy (non-aggregated) discovery documents kubectl and clients read.</summary>
internal static class Discovery
{
    public static JsonObject Version() => new()
    {
        ["major"] = "1",
        ["minor"] = "32",
        ["gitVersion"] = "v1.32.0-argohooks-emulator",
        ["gitCommit"] = "0000000000000000000000000000000000000000",
        ["gitTreeState"] = "clean",
        ["buildDate"] = "2025-01-01T00:00:00Z",
        ["goVersion"] = "go1.23",
        ["compiler"] = "gc",
        ["platform"] = "linux/amd64",
    };

    public static JsonObject RootPaths()
    {
        var paths = new JsonArray { "/api", "/api/v1", "/apis", "/version", "/healthz", "/readyz", "/livez" };
        foreach (var gv in GroupVersions().Where(g => g.Group.Length > 0)) paths.Add($"/apis/{gv.Group}/{gv.Version}");
        return new JsonObject { ["paths"] = paths };
    }

    public static JsonObject CoreVersions(Uri baseAddress) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray { "v1" },
        ["serverAddressByClientCIDRs"] = new JsonArray
        {
            new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = $"{baseAddress.Host}:{baseAddress.Port}" },
        },
    };

    private static IEnumerable<(string Group, string Version)> GroupVersions() =>
        ResourceTypes.All.Select(t => (t.Group, t.Version)).Distinct();

    private static JsonObject GroupObject(string group)
    {
        var versions = GroupVersions().Where(g => g.Group == group).Select(g => g.Version).ToList();
        var array = new JsonArray();
        foreach (var v in versions) array.Add(new JsonObject { ["groupVersion"] = $"{group}/{v}", ["version"] = v });
        return new JsonObject
        {
            ["name"] = group,
            ["versions"] = array,
            ["preferredVersion"] = new JsonObject { ["groupVersion"] = $"{group}/{versions[0]}", ["version"] = versions[0] },
        };
    }

    public static JsonObject GroupList()
    {
        var groups = new JsonArray();
        foreach (var g in GroupVersions().Select(g => g.Group).Where(g => g.Length > 0).Distinct()) groups.Add(GroupObject(g));
        return new JsonObject { ["kind"] = "APIGroupList", ["apiVersion"] = "v1", ["groups"] = groups };
    }

    public static JsonObject? Group(string group)
    {
        if (!GroupVersions().Any(g => g.Group == group && group.Length > 0)) return null;
        var o = GroupObject(group);
        o["kind"] = "APIGroup";
        o["apiVersion"] = "v1";
        return o;
    }

    public static JsonObject? ResourceList(string group, string version)
    {
        var types = ResourceTypes.All.Where(t => t.Group == group && t.Version == version).ToList();
        if (types.Count == 0) return null;
        var resources = new JsonArray();
        foreach (var t in types)
        {
            var r = new JsonObject
            {
                ["name"] = t.Plural,
                ["singularName"] = t.Singular,
                ["namespaced"] = t.Namespaced,
                ["kind"] = t.Kind,
                ["verbs"] = new JsonArray(t.Verbs.Select(v => (JsonNode)v).ToArray()),
            };
            if (t.ShortNames.Count > 0) r["shortNames"] = new JsonArray(t.ShortNames.Select(s => (JsonNode)s).ToArray());
            if (t.Categories.Count > 0) r["categories"] = new JsonArray(t.Categories.Select(s => (JsonNode)s).ToArray());
            resources.Add(r);
            if (t.HasStatusSubresource)
            {
                resources.Add(new JsonObject
                {
                    ["name"] = $"{t.Plural}/status",
                    ["singularName"] = "",
                    ["namespaced"] = t.Namespaced,
                    ["kind"] = t.Kind,
                    ["verbs"] = new JsonArray { "get", "patch", "update" },
                });
            }
            if (t == ResourceTypes.Pods)
            {
                resources.Add(new JsonObject { ["name"] = "pods/log", ["singularName"] = "", ["namespaced"] = true, ["kind"] = "Pod", ["verbs"] = new JsonArray { "get" } });
            }
        }
        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? version : $"{group}/{version}",
            ["resources"] = resources,
        };
    }
}
