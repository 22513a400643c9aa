using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ProcIsolates.Channels.Spill;

/// <summary>
/// Opens a spill file for reading without ever blocking on what a worker put in its place. A worker can make the
/// name an item announces a FIFO (whose open waits for a writer, forever), a symbolic link, or a device; on Unix the
/// file is opened with <c>O_NONBLOCK | O_NOFOLLOW</c>, so a FIFO opens at once and a link fails, and the caller then
/// requires the announced size, which only a regular file has (a FIFO or a device reports 0).
/// </summary>
internal static partial class SpillFile
{
    /// <summary>Opens <paramref name="path"/> for reading.</summary>
    /// <param name="path">The spill file.</param>
    /// <returns>The open file.</returns>
    /// <exception cref="IOException">It cannot be opened, or it is a link.</exception>
    public static SafeFileHandle OpenForReading(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }

        int descriptor = Open(path, ReadOnlyFlags());
        if (descriptor < 0)
        {
            int error = Marshal.GetLastPInvokeError();
            if (error == NoSuchFileError)
            {
                throw new FileNotFoundException($"the spill file '{Path.GetFileName(path)}' is gone.", path);
            }

            throw new IOException($"the spill file '{Path.GetFileName(path)}' cannot be opened (errno {error}{(error == SymbolicLinkLoopError() ? ": a link" : string.Empty)}).");
        }

        return new SafeFileHandle(descriptor, ownsHandle: true);
    }

    /// <summary><c>O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC</c>, whose values differ between systems and architectures.</summary>
    private static int ReadOnlyFlags()
    {
        if (OperatingSystem.IsMacOS())
        {
            return 0x4 | 0x100 | 0x1000000;
        }

        if (OperatingSystem.IsFreeBSD())
        {
            return 0x4 | 0x100 | 0x100000;
        }

        // Linux: O_NOFOLLOW is 0x8000 on arm and arm64, 0x20000 on x86 and x64.
        int noFollow = RuntimeInformation.ProcessArchitecture is Architecture.Arm or Architecture.Arm64 ? 0x8000 : 0x20000;
        return 0x800 | noFollow | 0x80000;
    }

    private const int NoSuchFileError = 2; // ENOENT, everywhere

    /// <summary>ELOOP, which <c>O_NOFOLLOW</c> gives for a link.</summary>
    private static int SymbolicLinkLoopError() => OperatingSystem.IsLinux() ? 40 : 62;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);
}
