using System.ComponentModel;
using System.Runtime.InteropServices;

namespace ProcIsolates.Worker.Sandbox;

/// <summary>
/// Linux's Landlock LSM through its three system calls (there is no libc wrapper): a ruleset of the file accesses,
/// TCP ports and scopes the process gives up, with rules for what stays allowed beneath given paths. A Landlock domain
/// also stops the process from tracing (and so reading the memory or <c>/proc/&lt;pid&gt;/environ</c> of) any process
/// outside it. Restricting applies to the calling thread and the processes it then starts, which is why the worker
/// restricts itself before it re-executes its runtime (<see cref="WorkerSandbox"/>).
/// </summary>
internal static partial class Landlock
{
    public const ulong Execute = 1UL << 0;
    public const ulong WriteFile = 1UL << 1;
    public const ulong ReadFile = 1UL << 2;
    public const ulong ReadDir = 1UL << 3;
    public const ulong RemoveDir = 1UL << 4;
    public const ulong RemoveFile = 1UL << 5;
    public const ulong MakeChar = 1UL << 6;
    public const ulong MakeDir = 1UL << 7;
    public const ulong MakeReg = 1UL << 8;
    public const ulong MakeSock = 1UL << 9;
    public const ulong MakeFifo = 1UL << 10;
    public const ulong MakeBlock = 1UL << 11;
    public const ulong MakeSym = 1UL << 12;
    public const ulong Refer = 1UL << 13;      // ABI 2
    public const ulong Truncate = 1UL << 14;   // ABI 3
    public const ulong IoctlDev = 1UL << 15;   // ABI 5

    /// <summary>The accesses that apply to a file as well as to a directory (a rule on a file may grant only these).</summary>
    public const ulong FileAccesses = Execute | WriteFile | ReadFile | Truncate | IoctlDev;

    public const ulong BindTcp = 1UL << 0;     // ABI 4
    public const ulong ConnectTcp = 1UL << 1;  // ABI 4

    public const ulong ScopeAbstractUnixSocket = 1UL << 0; // ABI 6
    public const ulong ScopeSignal = 1UL << 1;             // ABI 6

    // The same numbers on every architecture: Landlock came after the tables were unified.
    private const long SysCreateRuleset = 444;
    private const long SysAddRule = 445;
    private const long SysRestrictSelf = 446;
    private const uint CreateRulesetVersion = 1;
    private const int RulePathBeneath = 1;
    private const int PrSetNoNewPrivs = 38;
    private const int OPath = 0x200000;
    private const int OCloexec = 0x80000;

    /// <summary>The Landlock ABI version the kernel offers, or 0 when it has none (or it is disabled).</summary>
    public static int AbiVersion()
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        long version = Syscall(SysCreateRuleset, 0, 0, CreateRulesetVersion);
        return version < 0 ? 0 : (int)version;
    }

    /// <summary>The file accesses this ABI knows: a ruleset may handle only these.</summary>
    public static ulong FileAccessesOf(int abi) =>
        (MakeSym << 1) - 1 | (abi >= 2 ? Refer : 0) | (abi >= 3 ? Truncate : 0) | (abi >= 5 ? IoctlDev : 0);

    /// <summary>Sets <c>PR_SET_NO_NEW_PRIVS</c>, which an unprivileged process needs before it may restrict itself (and which seccomp needs too).</summary>
    public static void SetNoNewPrivileges()
    {
        if (SetNoNewPrivs(PrSetNoNewPrivs, 1, 0, 0, 0) != 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), "prctl(PR_SET_NO_NEW_PRIVS)");
        }
    }

    /// <summary>Creates a ruleset that handles (denies unless a rule allows) the given accesses.</summary>
    /// <returns>The ruleset's file descriptor.</returns>
    public static unsafe SafeRulesetHandle CreateRuleset(ulong handledFileAccess, ulong handledNetAccess, ulong scoped, int abi)
    {
        var attr = new RulesetAttr { HandledAccessFs = handledFileAccess, HandledAccessNet = handledNetAccess, Scoped = scoped };

        // Older ABIs know a shorter structure: pass only what they know (the fields they lack are zero here then).
        nuint size = abi >= 6 ? 24u : abi >= 4 ? 16u : 8u;
        long fd = Syscall(SysCreateRuleset, (nint)(&attr), size, 0);
        return fd < 0 ? throw new Win32Exception(Marshal.GetLastPInvokeError(), "landlock_create_ruleset") : new SafeRulesetHandle((int)fd);
    }

    /// <summary>Allows <paramref name="access"/> beneath <paramref name="path"/>; a path that does not exist is skipped.</summary>
    /// <returns>Whether a rule was added.</returns>
    public static unsafe bool AllowBeneath(SafeRulesetHandle ruleset, string path, ulong access)
    {
        int fd = Open(path, OPath | OCloexec);
        if (fd < 0)
        {
            return false;
        }

        try
        {
            // A rule on a file (not a directory) may only grant the accesses that apply to files.
            if (!Directory.Exists(path))
            {
                access &= FileAccesses;
            }

            var attr = new PathBeneathAttr { AllowedAccess = access, ParentFd = fd };
            if (Syscall(SysAddRule, ruleset.Fd, RulePathBeneath, (nint)(&attr), 0) < 0)
            {
                throw new Win32Exception(Marshal.GetLastPInvokeError(), $"landlock_add_rule({path})");
            }

            return true;
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>Enforces the ruleset on the calling thread and everything it starts from now on; irrevocable.</summary>
    public static void RestrictSelf(SafeRulesetHandle ruleset)
    {
        if (Syscall(SysRestrictSelf, ruleset.Fd, 0, 0) < 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), "landlock_restrict_self");
        }
    }

    private static long Syscall(long number, nint a1, nuint a2, uint a3) => SyscallRaw(number, a1, (nint)a2, (nint)a3, 0);

    private static long Syscall(long number, int a1, int a2, nint a3, uint a4) => SyscallRaw(number, a1, a2, a3, (nint)a4);

    private static long Syscall(long number, int a1, int a2, int a3) => SyscallRaw(number, a1, a2, a3, 0);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long SyscallRaw(long number, nint a1, nint a2, nint a3, nint a4);

    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    private static partial int SetNoNewPrivs(int option, nuint value, nuint unused3, nuint unused4, nuint unused5);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    [StructLayout(LayoutKind.Sequential)]
    private struct RulesetAttr
    {
        public ulong HandledAccessFs;
        public ulong HandledAccessNet;
        public ulong Scoped;
    }

    // struct landlock_path_beneath_attr is packed: 12 bytes.
    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    private struct PathBeneathAttr
    {
        public ulong AllowedAccess;
        public int ParentFd;
    }

    /// <summary>A ruleset's file descriptor, closed once the ruleset is enforced (the domain does not need it).</summary>
    internal sealed class SafeRulesetHandle(int fd) : IDisposable
    {
        public int Fd { get; } = fd;

        public void Dispose() => _ = Close(Fd);
    }
}
