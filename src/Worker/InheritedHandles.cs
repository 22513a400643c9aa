using System.Runtime.InteropServices;

namespace ProcIsolates.Worker;

/// <summary>
/// Closes the file descriptors a worker inherited by accident. A descriptor that the host (or whoever started the
/// host) opened without close-on-exec reaches every worker: a socket, a pipe to a shell, a file opened for writing.
/// The worker needs only its standard streams; everything its own runtime opens is close-on-exec, so a descriptor
/// above 2 without that flag was inherited.
/// </summary>
internal static partial class InheritedHandles
{
    private const int GetDescriptorFlags = 1; // F_GETFD
    private const int CloseOnExec = 1;        // FD_CLOEXEC

    /// <summary>Closes every inherited descriptor above standard error; returns how many were closed.</summary>
    /// <returns>The number of descriptors closed.</returns>
    public static int CloseAll()
    {
        string directory = OperatingSystem.IsLinux() ? "/proc/self/fd" : OperatingSystem.IsMacOS() ? "/dev/fd" : string.Empty;
        if (directory.Length == 0 || !Directory.Exists(directory))
        {
            return 0;
        }

        // Listed first, closed after: the listing itself holds a descriptor (with close-on-exec) while it runs.
        var inherited = new List<int>();
        foreach (string entry in Directory.EnumerateFileSystemEntries(directory))
        {
            if (int.TryParse(Path.GetFileName(entry), out int descriptor) && descriptor > 2)
            {
                int flags = Fcntl(descriptor, GetDescriptorFlags);
                if (flags >= 0 && (flags & CloseOnExec) == 0)
                {
                    inherited.Add(descriptor);
                }
            }
        }

        foreach (int descriptor in inherited)
        {
            _ = Close(descriptor);
        }

        return inherited.Count;
    }

    [LibraryImport("libc", EntryPoint = "fcntl")]
    private static partial int Fcntl(int descriptor, int command);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int descriptor);
}
