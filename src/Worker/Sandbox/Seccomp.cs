using System.ComponentModel;
using System.Runtime.InteropServices;

namespace ProcIsolates.Worker.Sandbox;

/// <summary>
/// A seccomp filter built with libseccomp (<c>libseccomp.so.2</c>, resolved at run time): the system calls a sandbox
/// denies fail with an error number, so the code that made them gets an ordinary exception, and the process lives on.
/// Installed on every thread at once (<c>SECCOMP_FILTER_FLAG_TSYNC</c>).
/// </summary>
internal static unsafe class Seccomp
{
    public const string LibraryName = "libseccomp.so.2";

    private const uint ActAllow = 0x7fff0000;
    private const uint ActErrno = 0x00050000;
    private const int AttrTsync = 4;
    private const int CompareNotEqual = 1;
    private const int CompareMaskedEqual = 7;
    private const ulong AddressFamilyUnix = 1;
    private const ulong CloneThread = 0x00010000;
    private const int Eperm = 1;
    private const int Enosys = 38;

    private static readonly Lazy<Api?> Library = new(Api.TryLoad);

    /// <summary>Whether libseccomp can be loaded; <paramref name="reason"/> says why not.</summary>
    public static bool IsAvailable(out string reason)
    {
        if (!OperatingSystem.IsLinux())
        {
            reason = "seccomp is Linux's";
            return false;
        }

        reason = Library.Value is null ? $"{LibraryName} (libseccomp) cannot be loaded; install the libseccomp2 package" : "";
        return Library.Value is not null;
    }

    /// <summary>Installs the filter the policy needs, on all threads of this process.</summary>
    public static void Install(SandboxPolicy policy)
    {
        Api api = Library.Value ?? throw new DllNotFoundException($"{LibraryName} cannot be loaded.");
        nint context = api.Init(ActAllow);
        if (context == 0)
        {
            throw new InvalidOperationException("seccomp_init failed.");
        }

        try
        {
            Check(api.AttrSet(context, AttrTsync, 1), "seccomp_attr_set(TSYNC)");
            if (!policy.Network)
            {
                // Only Unix domain sockets, which the worker's own connections are; io_uring could open sockets without socket().
                Deny(api, context, "socket", Eperm, new ArgumentCompare { Argument = 0, Operation = CompareNotEqual, DatumA = AddressFamilyUnix });
                Deny(api, context, "io_uring_setup", Eperm);
            }

            if (!policy.ChildProcesses)
            {
                Deny(api, context, "execve", Eperm);
                Deny(api, context, "execveat", Eperm);
                Deny(api, context, "fork", Eperm);
                Deny(api, context, "vfork", Eperm);

                // clone makes threads too: deny only the calls without CLONE_THREAD. clone3 passes its flags in memory,
                // which a filter cannot read, so it reports "not implemented", and glibc falls back to clone.
                Deny(api, context, "clone", Eperm, new ArgumentCompare { Argument = 0, Operation = CompareMaskedEqual, DatumA = CloneThread, DatumB = 0 });
                Deny(api, context, "clone3", Enosys);
                Deny(api, context, "io_uring_setup", Eperm);
            }

            Check(api.Load(context), "seccomp_load");
        }
        finally
        {
            api.Release(context);
        }
    }

    private static void Deny(Api api, nint context, string name, int errno, params ReadOnlySpan<ArgumentCompare> conditions)
    {
        int number = api.Resolve(name);
        if (number < 0)
        {
            return; // Not a system call on this architecture (fork on arm64, say).
        }

        fixed (ArgumentCompare* array = conditions)
        {
            int result = api.RuleAddArray(context, ActErrno | (uint)errno, number, (uint)conditions.Length, array);

            // -EEXIST: the same rule twice (io_uring_setup for both restrictions).
            if (result != -17)
            {
                Check(result, $"seccomp_rule_add({name})");
            }
        }
    }

    private static void Check(int result, string what)
    {
        if (result < 0)
        {
            throw new Win32Exception(-result, what);
        }
    }

    // struct scmp_arg_cmp
    [StructLayout(LayoutKind.Sequential)]
    private struct ArgumentCompare
    {
        public uint Argument;
        public int Operation;
        public ulong DatumA;
        public ulong DatumB;
    }

    /// <summary>The libseccomp functions used, by function pointer: the library is optional, so it is resolved at run time.</summary>
    private sealed class Api
    {
        public required delegate* unmanaged<uint, nint> Init { get; init; }

        public required delegate* unmanaged<nint, int, uint, int> AttrSet { get; init; }

        public required delegate* unmanaged<nint, uint, int, uint, ArgumentCompare*, int> RuleAddArray { get; init; }

        public required delegate* unmanaged<byte*, int> ResolveName { get; init; }

        public required delegate* unmanaged<nint, int> Load { get; init; }

        public required delegate* unmanaged<nint, void> Release { get; init; }

        public static Api? TryLoad()
        {
            if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad(LibraryName, out nint library))
            {
                return null;
            }

            try
            {
                return new Api
                {
                    Init = (delegate* unmanaged<uint, nint>)NativeLibrary.GetExport(library, "seccomp_init"),
                    AttrSet = (delegate* unmanaged<nint, int, uint, int>)NativeLibrary.GetExport(library, "seccomp_attr_set"),
                    RuleAddArray = (delegate* unmanaged<nint, uint, int, uint, ArgumentCompare*, int>)NativeLibrary.GetExport(library, "seccomp_rule_add_array"),
                    ResolveName = (delegate* unmanaged<byte*, int>)NativeLibrary.GetExport(library, "seccomp_syscall_resolve_name"),
                    Load = (delegate* unmanaged<nint, int>)NativeLibrary.GetExport(library, "seccomp_load"),
                    Release = (delegate* unmanaged<nint, void>)NativeLibrary.GetExport(library, "seccomp_release"),
                };
            }
            catch (EntryPointNotFoundException)
            {
                return null;
            }
        }

        public int Resolve(string name)
        {
            byte[] bytes = System.Text.Encoding.ASCII.GetBytes(name + "\0");
            fixed (byte* pointer = bytes)
            {
                return ResolveName(pointer);
            }
        }
    }
}
