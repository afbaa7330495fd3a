namespace ArgoHooks.Demo.Bench;

/// <summary>
/// Every ASP.NET Core host in this process (the emulator's API server, each simulated model server, the in-process
/// hook service) watches its appsettings files for changes with one inotify instance. Linux allows 128 per user by
/// default, shared with every other process of the user, so 100 InferenceServices rolling at once (200 model
/// servers) exhaust it and the emulator's controllers fail. Benchmarks never reload configuration: switch it off.
/// </summary>
internal static class HostFileWatchers
{
    public static void Disable() => Environment.SetEnvironmentVariable("DOTNET_hostBuilder__reloadConfigOnChange", "false");
}
