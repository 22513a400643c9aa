namespace ProcIsolates.Worker;

/// <summary>
/// Best-effort deletion of the files a host leaves for its workers (the socket file, the spill directory): whoever
/// gets there first deletes them, and the others find them gone. Here, not in ProcIsolates.Protocol, because the
/// worker assembly ships inside the host's package, so the host may use its internals.
/// </summary>
internal static class FileCleanup
{
    /// <summary>Deletes a file; a file that is gone, or cannot be reached, is left to the OS.</summary>
    /// <param name="path">The file.</param>
    public static void TryDeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Gone already, or its directory is: nothing left to clean.
        }
    }

    /// <summary>
    /// Deletes a directory and what is in it, making it listable first (the host keeps its spill directory unlistable
    /// on Unix, and a directory must be listed to be emptied).
    /// </summary>
    /// <param name="path">The directory.</param>
    public static void TryDeleteDirectory(string path)
    {
        try
        {
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            Directory.Delete(path, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Already gone, or another process of the same host is deleting it.
        }
    }
}
