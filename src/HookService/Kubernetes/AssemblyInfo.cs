using System.Runtime.CompilerServices;

// Unit tests check the pure helpers (revision order, watch detection, Retry-After) directly.
[assembly: InternalsVisibleTo("HookService.Tests")]
