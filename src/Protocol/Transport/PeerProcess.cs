using System.IO.Pipes;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ProcIsolates.Protocol.Transport;

/// <summary>
/// Which process is at the other end of a connected pipe, as the operating system says: <c>SO_PEERCRED</c> on Linux,
/// <c>LOCAL_PEERPID</c> on macOS, <c>GetNamedPipeClientProcessId</c>/<c>GetNamedPipeServerProcessId</c> on Windows.
/// The host accepts only the process it started, and a worker talks only to the process that started it, so a
/// process of the same user that takes over the socket's name (renames the file and listens in its place) can
/// neither read the token nor stand in for either end.
/// </summary>
public static partial class PeerProcess
{
    /// <summary>The process id of the peer of a connected pipe, or <see langword="null"/> if the system cannot tell.</summary>
    /// <param name="pipe">A connected server or client pipe.</param>
    /// <returns>The peer's process id.</returns>
    public static int? IdOf(PipeStream pipe)
    {
        ArgumentNullException.ThrowIfNull(pipe);
        SafePipeHandle handle = pipe.SafePipeHandle;
        if (OperatingSystem.IsWindows())
        {
            uint id;
            bool known = pipe is NamedPipeServerStream ? GetNamedPipeClientProcessId(handle, out id) : GetNamedPipeServerProcessId(handle, out id);
            return known ? (int)id : null;
        }

        Span<byte> value = stackalloc byte[12];
        int length = value.Length;
        bool linux = OperatingSystem.IsLinux();

        // Linux: SOL_SOCKET (1), SO_PEERCRED (17), struct ucred { pid, uid, gid }. macOS: SOL_LOCAL (0), LOCAL_PEERPID (2).
        int result = linux ? GetSocketOption(handle, 1, 17, value, ref length) : GetSocketOption(handle, 0, 2, value, ref length);
        return result == 0 && length >= 4 ? MemoryMarshal.Read<int>(value) : null;
    }

    [LibraryImport("libc", EntryPoint = "getsockopt")]
    private static partial int GetSocketOption(SafePipeHandle socket, int level, int name, Span<byte> value, ref int length);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool GetNamedPipeClientProcessId(SafePipeHandle pipe, out uint processId);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool GetNamedPipeServerProcessId(SafePipeHandle pipe, out uint processId);
}
