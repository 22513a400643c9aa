using System.Runtime.InteropServices;

namespace ProcIsolates.Worker;

/// <summary>
/// On Linux, asks the kernel to signal this worker when its parent dies (<c>PR_SET_PDEATHSIG</c>), a third way out besides
/// the end of standard input and of the pipe. The kernel ties this to the parent <em>thread</em> that forked the worker,
/// which is why the host starts workers from one long-lived thread (<c>WorkerSpawner</c>). The signal is SIGTERM, not
/// SIGKILL, so that the worker can still remove the socket file of a host that died while it was connecting.
/// </summary>
internal static partial class ParentWatch
{
    private const int PrSetPdeathsig = 1;
    private const int SigTerm = 15;

    private static PosixSignalRegistration? termination;

    /// <summary>Arms the signal, then checks that the parent is still the host (it may have died just before).</summary>
    /// <param name="hostProcessId">The host's process id.</param>
    /// <param name="onTermination">What to do on SIGTERM: clean up and exit.</param>
    /// <returns><see langword="false"/> if the host is already gone.</returns>
    public static bool Arm(int hostProcessId, Action onTermination)
    {
        if (!OperatingSystem.IsLinux())
        {
            return true;
        }

        termination = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            onTermination();
        });
        _ = SetParentDeathSignal(PrSetPdeathsig, SigTerm, 0, 0, 0);
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

    [LibraryImport("libc", EntryPoint = "getppid")]
    private static partial int GetParentProcessId();
}
