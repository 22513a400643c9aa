namespace ProcIsolates.Tests.Sandbox;

/// <summary>Where a process's ProcIsolates cgroups are, from its <c>/proc/&lt;pid&gt;/cgroup</c> lines.</summary>
internal static class CgroupPaths
{
    /// <summary>Whether this process may make cgroups for sandbox limits here.</summary>
    public static bool CanCreate() => (SandboxOptions.None with { MaxThreads = 100 }).IsSupported(out _);

    /// <summary>The directories of the ProcIsolates cgroups named by these lines (<c>id:controllers:path</c>).</summary>
    public static string[] FromProcCgroup(IEnumerable<string> lines) =>
    [
        .. lines
            .Select(line => line.Split(':', 3))
            .Where(parts => parts.Length == 3 && parts[2].Contains("procisolates", StringComparison.Ordinal))
            .SelectMany(parts => parts[1].Split(',').Select(controller => controller.Length == 0 ? $"/sys/fs/cgroup{parts[2]}" : $"/sys/fs/cgroup/{controller.Replace("name=", string.Empty, StringComparison.Ordinal)}{parts[2]}")
                .Append($"/sys/fs/cgroup/unified{parts[2]}"))
            .Where(Directory.Exists)
            .Distinct(),
    ];

    /// <summary>The directories of the ProcIsolates cgroups of a live process.</summary>
    public static string[] Of(int processId) => FromProcCgroup(File.ReadLines($"/proc/{processId}/cgroup"));
}
