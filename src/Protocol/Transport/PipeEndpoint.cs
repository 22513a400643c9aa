using System.Security.Cryptography;
using System.Text;

namespace ProcIsolates.Protocol.Transport;

/// <summary>
/// Names the pipe between a host and one worker. On Windows it is a named pipe; on Linux and macOS
/// <see cref="System.IO.Pipes.NamedPipeServerStream"/> is a Unix domain socket, and a rooted pipe name is used as the
/// socket's path as it is, so the name chosen here is a short absolute path that can be checked and deleted.
/// </summary>
public sealed class PipeEndpoint
{
    /// <summary>
    /// The longest socket path every supported Unix accepts: <c>sun_path</c> is 104 bytes on macOS and 108 on Linux,
    /// including the terminating NUL.
    /// </summary>
    public const int MaxSocketPathBytes = 103;

    private PipeEndpoint(string pipeName, string? socketPath)
    {
        PipeName = pipeName;
        SocketPath = socketPath;
    }

    /// <summary>The name to give <see cref="System.IO.Pipes.NamedPipeServerStream"/> and <see cref="System.IO.Pipes.NamedPipeClientStream"/>.</summary>
    public string PipeName { get; }

    /// <summary>The socket file's path on Unix; <see langword="null"/> on Windows.</summary>
    public string? SocketPath { get; }

    /// <summary>Makes a fresh, unguessable endpoint for one worker of this host process.</summary>
    /// <param name="interpreterId">The interpreter's id, part of the name to help when reading <c>ls</c> or <c>ss</c>.</param>
    /// <param name="directory">The socket directory on Unix; by default the temp directory, or <c>/tmp</c> when that is too long.</param>
    /// <returns>The endpoint.</returns>
    /// <exception cref="PathTooLongException">The socket path would exceed <see cref="MaxSocketPathBytes"/>.</exception>
    public static PipeEndpoint Create(long interpreterId, string? directory = null)
    {
        string name = $"pi-{Environment.ProcessId:x}-{interpreterId:x}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        if (OperatingSystem.IsWindows())
        {
            return new PipeEndpoint(name, socketPath: null);
        }

        string socketPath = Path.Combine(directory ?? Path.GetTempPath(), name + ".sock");
        if (directory is null && Encoding.UTF8.GetByteCount(socketPath) > MaxSocketPathBytes)
        {
            // macOS gives each user a long TMPDIR; /tmp always fits.
            socketPath = Path.Combine("/tmp", name + ".sock");
        }

        int length = Encoding.UTF8.GetByteCount(socketPath);
        if (length > MaxSocketPathBytes)
        {
            throw new PathTooLongException(
                $"The socket path '{socketPath}' is {length} bytes; Unix domain sockets allow at most {MaxSocketPathBytes}. Choose a shorter socket directory.");
        }

        return new PipeEndpoint(socketPath, socketPath);
    }

    /// <summary>Makes an endpoint from a name received on a worker's command line.</summary>
    /// <param name="pipeName">The pipe name.</param>
    /// <returns>The endpoint.</returns>
    public static PipeEndpoint FromName(string pipeName)
    {
        ArgumentException.ThrowIfNullOrEmpty(pipeName);
        return new PipeEndpoint(pipeName, OperatingSystem.IsWindows() ? null : pipeName);
    }

    /// <summary>Deletes the socket file, if there is one. Safe to call more than once.</summary>
    public void DeleteSocketFile()
    {
        if (SocketPath is null)
        {
            return;
        }

        try
        {
            File.Delete(SocketPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Already gone or unreachable: nothing left to clean.
        }
    }

    /// <inheritdoc/>
    public override string ToString() => PipeName;
}
