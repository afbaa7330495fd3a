namespace ArgoHooks.ClusterEmulator;

internal static class Placeholder;
