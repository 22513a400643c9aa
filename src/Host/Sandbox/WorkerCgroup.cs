namespace ProcIsolates.Sandbox;

/// <summary>
/// The cgroups of one sandboxed worker, one per controller its limits need: created with their limits before the
/// worker runs any user code, joined by the worker's process right after it starts (all its threads move with it), and
/// removed once it has exited. The host creates and fills them, so the worker cannot lift its own limits.
/// </summary>
internal sealed class WorkerCgroup
{
    private readonly List<string> directories = [];

    private WorkerCgroup()
    {
    }

    /// <summary>Creates the cgroups for <paramref name="sandbox"/>'s limits; <see langword="null"/> if it has none.</summary>
    /// <exception cref="SandboxNotSupportedException">A limit's controller is not usable here.</exception>
    public static WorkerCgroup? Create(SandboxOptions sandbox, string name)
    {
        if (!sandbox.HasLimits)
        {
            return null;
        }

        var cgroup = new WorkerCgroup();
        try
        {
            cgroup.Add("pids", nameof(SandboxOptions.MaxThreads), sandbox.MaxThreads, name);
            cgroup.Add("cpu", nameof(SandboxOptions.CpuLimit), sandbox.CpuLimit, name);
            cgroup.Add("memory", nameof(SandboxOptions.MemoryLimit), sandbox.MemoryLimit, name);
            return cgroup;
        }
        catch
        {
            cgroup.Remove();
            throw;
        }
    }

    /// <summary>The files a process writes its id into to join the cgroups.</summary>
    public IEnumerable<string> ProcessFiles => directories.Select(directory => Path.Join(directory, "cgroup.procs"));

    /// <summary>Moves the started worker (every thread of it) into the cgroups.</summary>
    public void Join(int processId)
    {
        foreach (string directory in directories)
        {
            File.WriteAllText(Path.Join(directory, "cgroup.procs"), processId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Removes the cgroups; a cgroup still holding a process (it is exiting) is retried for a second.</summary>
    public void Remove()
    {
        foreach (string directory in directories)
        {
            RemoveOne(directory);
            if (!OperatingSystem.IsWindows())
            {
                Workers.OrphanReaper.ReleaseCgroup(directory);
            }
        }
    }

    private static void RemoveOne(string directory)
    {
        for (int attempt = 0; Directory.Exists(directory); attempt++)
        {
            try
            {
                Directory.Delete(directory); // rmdir: a cgroup's files are not files to delete.
            }
            catch (IOException) when (attempt < 100)
            {
                Thread.Sleep(10);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                break; // Left to the OS: an empty cgroup costs little.
            }
        }
    }

    private void Add(string controller, string restriction, double? limit, string name)
    {
        if (limit is not { } value)
        {
            return;
        }

        CgroupLocation location = CgroupControllers.Current.Find(controller, out string reason)
            ?? throw new SandboxNotSupportedException(restriction, reason);
        string directory = Path.Join(location.Parent, name);
        try
        {
            Directory.CreateDirectory(directory);
            if (!directories.Contains(directory))
            {
                directories.Add(directory);
                if (!OperatingSystem.IsWindows())
                {
                    Workers.OrphanReaper.WatchCgroup(directory); // Removed even if this host is killed.
                }
            }

            bool first = true;
            foreach ((string file, string text) in location.LimitFiles(controller, value))
            {
                // The first file is the limit itself; the others (swap) exist only where the kernel accounts for them.
                string path = Path.Join(directory, file);
                if (first || File.Exists(path))
                {
                    File.WriteAllText(path, text);
                }

                first = false;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SandboxNotSupportedException(restriction, $"the cgroup {directory} could not be set up: {ex.Message}");
        }
    }
}
