using System.Diagnostics;
using ProcIsolates.Worker;
using ProcIsolates.Worker.Sandbox;

namespace ProcIsolates.Sandbox;

/// <summary>
/// What the host sets up for one sandboxed worker and removes when it has exited: its private temp directory (the
/// worker's <c>TMPDIR</c>, <c>TMP</c> and <c>TEMP</c>), its cgroups (Linux) or job object (Windows), and the policy the
/// worker enforces on itself (its <c>--sandbox</c> argument).
/// </summary>
internal sealed class WorkerSandboxSetup
{
    // $1… are cgroup.procs files up to "--", then the worker's command line; exit code 97 when a cgroup refuses it.
    private const string JoinThenRun = "while [ \"$1\" != -- ]; do echo $$ > \"$1\" || exit 97; shift; done; shift; exec \"$@\"";

    private readonly WorkerCgroup? cgroup;
    private readonly IDisposable? job;
    private bool joinedBeforeStart;
    private int removed;

    private WorkerSandboxSetup(string temporaryDirectory, SandboxPolicy? policy, WorkerCgroup? cgroup, IDisposable? job)
    {
        TemporaryDirectory = temporaryDirectory;
        Policy = policy;
        this.cgroup = cgroup;
        this.job = job;
    }

    /// <summary>The worker's own temp directory.</summary>
    public string TemporaryDirectory { get; }

    /// <summary>What the worker confines itself to, or <see langword="null"/> when the sandbox only limits resources.</summary>
    public SandboxPolicy? Policy { get; }

    /// <summary>Sets up a worker's sandbox; <see langword="null"/> for <see cref="SandboxOptions.None"/>.</summary>
    /// <exception cref="SandboxNotSupportedException">A restriction cannot be enforced here.</exception>
    public static WorkerSandboxSetup? Create(SandboxOptions sandbox, long workerNumber)
    {
        if (sandbox.IsNone)
        {
            return null;
        }

        if (SandboxSupport.Check(sandbox) is { } unsupported)
        {
            throw unsupported;
        }

        string temporary = Directory.CreateTempSubdirectory($"procisolates-worker-{System.Environment.ProcessId:x}-{workerNumber:x}-").FullName;
        WorkerCgroup? cgroup = null;
        IDisposable? job = null;
        try
        {
            cgroup = OperatingSystem.IsLinux() ? WorkerCgroup.Create(sandbox, Path.GetFileName(temporary)) : null;
            job = OperatingSystem.IsWindows() ? WindowsSandboxJob.Create(sandbox) : null;
        }
        catch
        {
            cgroup?.Remove();
            FileCleanup.TryDeleteDirectory(temporary);
            throw;
        }

        SandboxPolicy? policy = !sandbox.ConfinesWorker || !OperatingSystem.IsLinux() ? null : new SandboxPolicy
        {
            Network = sandbox.Network,
            ChildProcesses = sandbox.ChildProcesses,
            FileSystem = sandbox.FileSystem,
            OtherProcesses = sandbox.OtherProcesses,
            ReadablePaths = sandbox.ReadablePaths,
            WritablePaths = [temporary, .. sandbox.WritablePaths],
        };
        return new WorkerSandboxSetup(temporary, policy, cgroup, job);
    }

    /// <summary>The variables that point the worker's temp directory at its own.</summary>
    public IEnumerable<KeyValuePair<string, string?>> Environment() =>
        [new("TMPDIR", TemporaryDirectory), new("TMP", TemporaryDirectory), new("TEMP", TemporaryDirectory)];

    /// <summary>
    /// Makes <paramref name="start"/> join the worker's cgroups before the runtime starts, so that every byte the
    /// worker allocates is charged to its own memory limit: memory charged before a process moves stays with the cgroup
    /// it was charged in. A shell writes its own id into each cgroup, then becomes the worker (same process id).
    /// </summary>
    public void JoinCgroupsFirst(ProcessStartInfo start)
    {
        const string Shell = "/bin/sh";
        if (cgroup is null || !File.Exists(Shell))
        {
            return; // Attach still moves the worker, right after it starts.
        }

        joinedBeforeStart = true;
        string[] worker = [start.FileName, .. start.ArgumentList];
        start.FileName = Shell;
        start.ArgumentList.Clear();
        foreach (string argument in (string[])["-c", JoinThenRun, "procisolates-join", .. cgroup.ProcessFiles, "--", .. worker])
        {
            start.ArgumentList.Add(argument);
        }
    }

    /// <summary>Puts the started worker under its limits, before it can run any user code.</summary>
    public void Attach(Process process)
    {
        try
        {
            // Already in, by the shell; joining again after a failed wrapper could move a reused pid.
            if (!joinedBeforeStart)
            {
                cgroup?.Join(process.Id);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SandboxNotSupportedException("MaxThreads/CpuLimit/MemoryLimit", $"the worker could not join its cgroup: {ex.Message}");
        }

        if (OperatingSystem.IsWindows())
        {
            (job as WindowsSandboxJob)?.Assign(process);
        }
    }

    /// <summary>Removes the cgroups, the job and the temp directory, once the worker has exited. Idempotent.</summary>
    public void Remove()
    {
        if (Interlocked.Exchange(ref removed, 1) == 1)
        {
            return;
        }

        cgroup?.Remove();
        job?.Dispose();
        FileCleanup.TryDeleteDirectory(TemporaryDirectory);
    }
}
