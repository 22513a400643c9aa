using System.Runtime.InteropServices;

namespace ProcIsolates.Worker.Sandbox;

/// <summary>
/// The paths a worker with a restricted file system may still read: where the runtime, the app and its dependencies
/// live, and the few system files a .NET process reads while it runs (shared libraries, time zones, its own
/// <c>/proc</c> entry, the cgroup and CPU files that size the GC and the thread pool, random numbers).
/// </summary>
internal static class SandboxPaths
{
    /// <summary>
    /// Where the shared libraries are: readable, and executable, since the kernel opens the dynamic loader
    /// (<c>/lib64/ld-linux-*.so</c>) for execution when the worker re-executes itself.
    /// </summary>
    public static readonly string[] Libraries = ["/usr/lib", "/lib", "/lib64", "/usr/lib64", "/usr/local/lib"];

    /// <summary>System paths a .NET runtime reads; those missing on a machine are skipped.</summary>
    private static readonly string[] SystemReadable =
    [
        "/etc/ld.so.cache", "/etc/localtime", "/etc/timezone", "/usr/share/zoneinfo", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf",
        "/proc/self", "/proc/meminfo", "/proc/stat", "/proc/cpuinfo", "/proc/sys/kernel", "/sys/fs/cgroup", "/sys/devices/system/cpu",
        "/dev/urandom", "/dev/random", "/dev/zero",
    ];

    /// <summary>Where the programs are that a worker allowed to start programs may run.</summary>
    private static readonly string[] ProgramDirectories = ["/usr/bin", "/bin", "/usr/local/bin", "/usr/sbin", "/sbin"];

    /// <summary>Readable (and executable) paths of the runtime and the app, as this process sees them.</summary>
    /// <param name="commandLine">The process's command line, whose options name the app's runtimeconfig and deps files.</param>
    public static IEnumerable<string> RuntimeAndApp(IReadOnlyList<string> commandLine)
    {
        if (Environment.ProcessPath is { } program)
        {
            yield return program;
            yield return Path.GetDirectoryName(program)!; // The dotnet root, with host/fxr and shared/, when run through dotnet.
        }

        string runtime = RuntimeEnvironment.GetRuntimeDirectory();
        yield return runtime;

        // An app started through its apphost: the dotnet root is three folders above the runtime.
        if (Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(runtime.TrimEnd('/')))) is { } root && Directory.Exists(Path.Combine(root, "host", "fxr")))
        {
            yield return root;
        }

        yield return AppContext.BaseDirectory;
        foreach (string key in new[] { "TRUSTED_PLATFORM_ASSEMBLIES", "NATIVE_DLL_SEARCH_DIRECTORIES", "PLATFORM_RESOURCE_ROOTS", "APP_PATHS" })
        {
            foreach (string entry in (AppContext.GetData(key) as string ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                yield return Directory.Exists(entry) ? entry : Path.GetDirectoryName(entry) ?? entry;
            }
        }

        for (int i = 0; i + 1 < commandLine.Count; i++)
        {
            if (commandLine[i] is "--runtimeconfig" or "--depsfile" or "--additionalprobingpath")
            {
                yield return Path.GetDirectoryName(Path.GetFullPath(commandLine[i + 1])) ?? commandLine[i + 1];
            }
        }
    }

    /// <summary>System paths to read.</summary>
    /// <param name="childProcesses">Whether the worker may start programs (their directories are then readable too).</param>
    public static IEnumerable<string> System(bool childProcesses) => childProcesses ? SystemReadable.Concat(ProgramDirectories) : SystemReadable;

    /// <summary>
    /// Every top-level path but <c>/proc</c>, and of <c>/proc</c> everything but other processes' entries: this
    /// process's own (<c>/proc/self</c>) and the system-wide files (<c>/proc/meminfo</c>, <c>/proc/sys</c>, …).
    /// </summary>
    public static IEnumerable<string> EverythingButOtherProcesses()
    {
        foreach (string entry in Directory.EnumerateFileSystemEntries("/"))
        {
            if (entry != "/proc")
            {
                yield return entry;
            }
        }

        yield return "/proc/self";
        yield return "/proc/thread-self";
        foreach (string entry in Directory.EnumerateFileSystemEntries("/proc"))
        {
            string name = Path.GetFileName(entry);
            if (!name.All(char.IsAsciiDigit) && name is not ("self" or "thread-self"))
            {
                yield return entry;
            }
        }
    }
}
