using System.Runtime.InteropServices;

namespace ProcIsolates.Worker;

/// <summary>
/// On Linux, asks the kernel to kill this worker when its parent dies (<c>PR_SET_PDEATHSIG</c> with SIGKILL, which ends
/// even a stopped process), a third way out besides the end of standard input and of the pipe. The kernel ties this to
/// the parent <em>thread</em> that forked the worker, which is why the host starts workers from one long-lived thread
/// (<c>WorkerSpawner</c>). On Linux and macOS the worker also leads a process group of its own, so that the host's
/// reaper (<c>OrphanReaper</c>) can kill whatever it started. Cleaning up after a killed host (socket files, the spill
/// directory) is that reaper's job.
/// </summary>
internal static partial class ParentWatch
{
    private const int PrSetPdeathsig = 1;
    private const int SigKill = 9;

    /// <summary>Leads a process group, arms the signal, then checks that the parent is still the host (it may have died just before).</summary>
    /// <param name="hostProcessId">The host's process id.</param>
    /// <returns><see langword="false"/> if the host is already gone.</returns>
    public static bool Arm(int hostProcessId)
    {
        if (OperatingSystem.IsWindows())
        {
            return true;
        }

        _ = SetProcessGroup(0, 0);
        if (!OperatingSystem.IsLinux())
        {
            return true;
        }

        _ = SetParentDeathSignal(PrSetPdeathsig, SigKill, 0, 0, 0);
        return GetParentProcessId() == hostProcessId;
    }

    /// <summary>
    /// Whether the host has exited: on Linux the worker then has another parent. When the host is killed, the
    /// parent-death signal comes after the kernel re-parented its children, so the answer is sure then; at the end of
    /// standard input it may come a moment too early. Elsewhere, <see langword="false"/>.
    /// </summary>
    /// <param name="hostProcessId">The host's process id.</param>
    public static bool HostHasExited(int hostProcessId) => OperatingSystem.IsLinux() && GetParentProcessId() != hostProcessId;

    [LibraryImport("libc", EntryPoint = "prctl")]
    private static partial int SetParentDeathSignal(int option, nuint signal, nuint unused3, nuint unused4, nuint unused5);

    [LibraryImport("libc", EntryPoint = "setpgid")]
    private static partial int SetProcessGroup(int processId, int processGroupId);

    [LibraryImport("libc", EntryPoint = "getppid")]
    private static partial int GetParentProcessId();
}
