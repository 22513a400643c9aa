using ProcIsolates.Worker.Sandbox;

namespace ProcIsolates.Sandbox;

/// <summary>Whether this OS, kernel and user can enforce each restriction a sandbox asks for.</summary>
internal static class SandboxSupport
{
    /// <summary>The first restriction of <paramref name="sandbox"/> that cannot be enforced here, or <see langword="null"/>.</summary>
    public static SandboxNotSupportedException? Check(SandboxOptions sandbox)
    {
        if (sandbox.IsNone)
        {
            return null;
        }

        if (OperatingSystem.IsLinux())
        {
            return CheckLinux(sandbox);
        }

        if (OperatingSystem.IsWindows())
        {
            // A job object enforces child processes, CPU and memory; the rest would need an AppContainer, not implemented.
            const string missing = "Windows job objects cannot enforce it, and ProcIsolates has no AppContainer or restricted-token sandbox yet";
            return !sandbox.Network ? new(nameof(SandboxOptions.Network), missing)
                : !sandbox.FileSystem ? new(nameof(SandboxOptions.FileSystem), missing)
                : !sandbox.OtherProcesses ? new(nameof(SandboxOptions.OtherProcesses), missing)
                : sandbox.MaxThreads is not null ? new(nameof(SandboxOptions.MaxThreads), "Windows job objects cannot cap a process's threads")
                : null;
        }

        return new SandboxNotSupportedException(FirstRestriction(sandbox), $"ProcIsolates has no sandbox for {System.Runtime.InteropServices.RuntimeInformation.OSDescription} (only Linux, and partly Windows)");
    }

    private static SandboxNotSupportedException? CheckLinux(SandboxOptions sandbox)
    {
        if ((!sandbox.Network || !sandbox.ChildProcesses) && !Seccomp.IsAvailable(out string noSeccomp))
        {
            return new(!sandbox.Network ? nameof(SandboxOptions.Network) : nameof(SandboxOptions.ChildProcesses), noSeccomp);
        }

        int abi = Landlock.AbiVersion();
        if (!sandbox.FileSystem && abi < 1)
        {
            return new(nameof(SandboxOptions.FileSystem), "this kernel has no Landlock (Linux 5.13 or later, with landlock in the lsm= boot parameter)");
        }

        if (!sandbox.OtherProcesses && abi < 6)
        {
            return new(nameof(SandboxOptions.OtherProcesses), $"this kernel's Landlock (ABI {abi}) cannot scope signals; ABI 6 (Linux 6.12) or later is needed");
        }

        foreach ((string controller, string restriction, bool asked) in new[]
        {
            ("pids", nameof(SandboxOptions.MaxThreads), sandbox.MaxThreads is not null),
            ("cpu", nameof(SandboxOptions.CpuLimit), sandbox.CpuLimit is not null),
            ("memory", nameof(SandboxOptions.MemoryLimit), sandbox.MemoryLimit is not null),
        })
        {
            if (asked && CgroupControllers.Current.Find(controller, out string reason) is null)
            {
                return new(restriction, reason);
            }
        }

        return null;
    }

    private static string FirstRestriction(SandboxOptions sandbox) =>
        !sandbox.Network ? nameof(SandboxOptions.Network)
        : !sandbox.ChildProcesses ? nameof(SandboxOptions.ChildProcesses)
        : !sandbox.FileSystem ? nameof(SandboxOptions.FileSystem)
        : !sandbox.OtherProcesses ? nameof(SandboxOptions.OtherProcesses)
        : sandbox.MaxThreads is not null ? nameof(SandboxOptions.MaxThreads)
        : sandbox.CpuLimit is not null ? nameof(SandboxOptions.CpuLimit)
        : nameof(SandboxOptions.MemoryLimit);
}
