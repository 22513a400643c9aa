using System.Globalization;

namespace ProcIsolates.Sandbox;

/// <summary>
/// Where this process may create cgroups for its workers, per controller (<c>pids</c>, <c>cpu</c>, <c>memory</c>):
/// beneath its own cgroup, in the unified (v2) hierarchy if the controller is enabled there, else in the controller's
/// v1 hierarchy. A controller is usable only if this process can create a cgroup there: as root, or in a cgroup
/// delegated to its user. Found once per process.
/// </summary>
internal sealed class CgroupControllers
{
    private static readonly Lazy<CgroupControllers> Discovered = new(Discover);

    private static readonly string[] Controllers = ["pids", "cpu", "memory"];

    private readonly Dictionary<string, CgroupLocation> usable;
    private readonly Dictionary<string, string> unusable;

    private CgroupControllers(Dictionary<string, CgroupLocation> usable, Dictionary<string, string> unusable)
    {
        this.usable = usable;
        this.unusable = unusable;
    }

    public static CgroupControllers Current => Discovered.Value;

    /// <summary>Where workers' cgroups for <paramref name="controller"/> go, or <see langword="null"/> with <paramref name="reason"/>.</summary>
    public CgroupLocation? Find(string controller, out string reason)
    {
        reason = unusable.GetValueOrDefault(controller, $"no cgroup hierarchy has the {controller} controller");
        return usable.GetValueOrDefault(controller);
    }

    private static CgroupControllers Discover()
    {
        var usable = new Dictionary<string, CgroupLocation>(StringComparer.Ordinal);
        var unusable = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!OperatingSystem.IsLinux())
        {
            return new CgroupControllers(usable, unusable);
        }

        // This process's cgroup in each hierarchy: "id:controllers:path" ("0::path" is the unified one).
        var ownPaths = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in ReadLines("/proc/self/cgroup"))
        {
            string[] parts = line.Split(':', 3);
            if (parts.Length == 3)
            {
                ownPaths[parts[1]] = parts[2];
            }
        }

        // Mount points: "/proc/mounts" lines are "device mountpoint type options …".
        string? unifiedMount = null;
        var v1Mounts = new Dictionary<string, (string Mount, string Key)>(StringComparer.Ordinal);
        foreach (string line in ReadLines("/proc/self/mounts"))
        {
            string[] fields = line.Split(' ');
            if (fields.Length < 4)
            {
                continue;
            }

            if (fields[2] == "cgroup2")
            {
                unifiedMount ??= fields[1];
            }
            else if (fields[2] == "cgroup")
            {
                string[] options = fields[3].Split(',');
                foreach (string controller in Controllers.Where(options.Contains))
                {
                    // The key in /proc/self/cgroup lists the hierarchy's controllers, e.g. "cpu,cpuacct".
                    string key = string.Join(',', options.Where(o => o is not ("rw" or "ro" or "relatime" or "nosuid" or "nodev" or "noexec") && !o.StartsWith("name=", StringComparison.Ordinal)));
                    v1Mounts.TryAdd(controller, (fields[1], key));
                }
            }
        }

        foreach (string controller in Controllers)
        {
            string? parent = null;
            bool unified = false;
            if (unifiedMount is not null && ownPaths.TryGetValue("", out string? unifiedPath))
            {
                string own = Path.Join(unifiedMount, unifiedPath);
                if (ReadLines(Path.Join(own, "cgroup.controllers")).SelectMany(l => l.Split(' ')).Contains(controller)
                    && ReadLines(Path.Join(own, "cgroup.subtree_control")).SelectMany(l => l.Split(' ')).Contains(controller))
                {
                    (parent, unified) = (own, true);
                }
            }

            if (parent is null && v1Mounts.TryGetValue(controller, out (string Mount, string Key) v1))
            {
                string path = ownPaths.GetValueOrDefault(v1.Key) ?? ownPaths.FirstOrDefault(p => p.Key.Split(',').Contains(controller)).Value ?? "/";
                parent = Path.Join(v1.Mount, path);
            }

            if (parent is null)
            {
                unusable[controller] = $"no cgroup hierarchy of this process has the {controller} controller (cgroup v2 at {unifiedMount ?? "none"} does not delegate it, and no cgroup v1 hierarchy mounts it)";
                continue;
            }

            if (CanCreateIn(parent, out string why))
            {
                usable[controller] = new CgroupLocation(parent, unified);
            }
            else
            {
                unusable[controller] = $"this process (uid {UserId()}) cannot create a cgroup in {parent} ({(unified ? "cgroup v2" : "cgroup v1")}: {why}); run as root, or delegate a writable cgroup with the {controller} controller to this user";
            }
        }

        return new CgroupControllers(usable, unusable);
    }

    private static bool CanCreateIn(string parent, out string why)
    {
        string probe = Path.Join(parent, $"procisolates-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(probe);
            Directory.Delete(probe);
            why = "";
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            why = ex.Message;
            return false;
        }
    }

    private static string UserId() => File.Exists("/proc/self/status")
        ? ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal))?.Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1) ?? "?"
        : "?";

    private static string[] ReadLines(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}

/// <summary>Where a controller's worker cgroups are created.</summary>
/// <param name="Parent">The cgroup directory they are created in.</param>
/// <param name="Unified">Whether it is the unified (v2) hierarchy.</param>
internal sealed record CgroupLocation(string Parent, bool Unified)
{
    /// <summary>The file that caps <paramref name="controller"/>'s resource, and its value for <paramref name="limit"/>.</summary>
    public IEnumerable<(string File, string Value)> LimitFiles(string controller, double limit) => (controller, Unified) switch
    {
        ("pids", _) => [("pids.max", Invariant((long)limit))],
        ("cpu", true) => [("cpu.max", Invariant((long)Math.Round(limit * CpuPeriod)) + " " + Invariant(CpuPeriod))],
        ("cpu", false) => [("cpu.cfs_period_us", Invariant(CpuPeriod)), ("cpu.cfs_quota_us", Invariant((long)Math.Round(limit * CpuPeriod)))],
        ("memory", true) => [("memory.max", Invariant((long)limit)), ("memory.swap.max", "0")],
        ("memory", false) => [("memory.limit_in_bytes", Invariant((long)limit)), ("memory.memsw.limit_in_bytes", Invariant((long)limit))],
        _ => throw new ArgumentOutOfRangeException(nameof(controller), controller, "Unknown cgroup controller."),
    };

    private const long CpuPeriod = 100_000;

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
