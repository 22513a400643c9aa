using System.IO.Pipes;
using ProcIsolates.Protocol.Transport;

namespace ProcIsolates.Workers;

/// <summary>
/// Accepts, at a worker's endpoint, the connections of the worker the host just started: one per
/// <see cref="ConnectionRole"/>, each proven by the token the worker was given. Anyone else who connects is dropped and a
/// new listener takes over.
/// </summary>
internal static class WorkerListener
{
    /// <summary>How often a peer may fail before the start is given up; each failure drops that peer.</summary>
    public const int MaxConnectAttempts = 8;

    /// <summary>How many connections a worker opens: one per <see cref="ConnectionRole"/>.</summary>
    private static readonly int ConnectionCount = Enum.GetValues<ConnectionRole>().Length;

    /// <summary>How long a connected peer has to complete the handshake; our worker does it at once.</summary>
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Listens until the worker has opened all its connections.</summary>
    /// <param name="endpoint">The worker's endpoint.</param>
    /// <param name="token">The token the worker was given.</param>
    /// <param name="workerProcessId">The worker's process id: a peer that the system says is another process is dropped without counting as an attempt.</param>
    /// <param name="waitForConnection">Waits for a peer on a listener; throws if the worker exits meanwhile.</param>
    /// <param name="cancellationToken">Ends the wait (the start's deadline).</param>
    /// <returns>The connections, indexed by <see cref="ConnectionRole"/>; the caller owns them.</returns>
    /// <exception cref="HandshakeException">Peers failed <see cref="MaxConnectAttempts"/> times.</exception>
    public static async Task<NamedPipeServerStream[]> AcceptAsync(
        PipeEndpoint endpoint, byte[] token, int workerProcessId, Func<NamedPipeServerStream, CancellationToken, Task> waitForConnection, CancellationToken cancellationToken)
    {
        var accepted = new NamedPipeServerStream?[ConnectionCount];
        NamedPipeServerStream? listener = null;
        try
        {
            // One listener at a time, so that every platform hands the next connection to the one listening (the worker
            // opens its connections one after the other). FirstPipeInstance on the first one only: if anyone else holds
            // the name, the start fails; after that the name is ours.
            listener = Listen(endpoint, firstInstance: true);
            for (int attempt = 1, missing = ConnectionCount; missing > 0;)
            {
                NamedPipeServerStream current = listener!; // Set before the loop, and after every connection but the last.
                try
                {
                    await waitForConnection(current, cancellationToken).ConfigureAwait(false);
                    int? peer = PeerProcess.IdOf(current);
                    if (peer is { } other && other != workerProcessId)
                    {
                        // Not our worker, as the system tells: dropped before it can say anything, and not counted, so
                        // that intruders cannot use up the worker's attempts.
                        listener = await ReplaceAsync(endpoint, current).ConfigureAwait(false);
                        continue;
                    }

                    // Our worker, once the system vouches for it, has the whole start deadline: a worker starved of
                    // CPU may take long to greet. A peer the system cannot name gets a short one.
                    using var handshakeTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    if (peer is null)
                    {
                        handshakeTimeout.CancelAfter(HandshakeTimeout);
                    }

                    ConnectionRole role = await Handshake.ServerAsync(current, token, handshakeTimeout.Token).ConfigureAwait(false);
                    if (accepted[(int)role] is not null)
                    {
                        throw new HandshakeException($"The worker opened a second {role} connection.");
                    }

                    accepted[(int)role] = current;
                    listener = null; // Owned by accepted now, even if the next Listen throws.
                    missing--;
                    listener = missing > 0 ? Listen(endpoint, firstInstance: false) : null;
                }
                catch (Exception ex) when (attempt++ < MaxConnectAttempts && listener is not null &&
                    (ex is IOException or UnauthorizedAccessException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested)))
                {
                    // A bad greeting, a reset, a peer of another user, or a peer that never finished its greeting. The
                    // new listener first: while an instance lives the socket keeps listening, and a worker already
                    // queued on it keeps its place (on Unix, closing the last instance resets the queue).
                    NamedPipeServerStream failed = listener;
                    listener = null;
                    listener = await ReplaceAsync(endpoint, failed).ConfigureAwait(false);
                }
            }

            return accepted!;
        }
        catch
        {
            foreach (NamedPipeServerStream? pipe in accepted.Append(listener))
            {
                if (pipe is not null)
                {
                    await pipe.DisposeAsync().ConfigureAwait(false);
                }
            }

            throw;
        }
    }

    /// <summary>Listens again, then drops <paramref name="failed"/> (in this order: see the caller).</summary>
    private static async Task<NamedPipeServerStream> ReplaceAsync(PipeEndpoint endpoint, NamedPipeServerStream failed)
    {
        try
        {
            return Listen(endpoint, firstInstance: false);
        }
        finally
        {
            await failed.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static NamedPipeServerStream Listen(PipeEndpoint endpoint, bool firstInstance)
    {
        PipeOptions pipeOptions = PipeOptions.Asynchronous | PipeOptions.CurrentUserOnly | (firstInstance ? PipeOptions.FirstPipeInstance : PipeOptions.None);

        // An accepted connection still counts as an instance of the name until it closes; one more for a listener that
        // replaces a dropped one.
        var pipe = new NamedPipeServerStream(endpoint.PipeName, PipeDirection.InOut, ConnectionCount + 1, PipeTransmissionMode.Byte, pipeOptions);
        try
        {
            if (endpoint.SocketPath is { } socketPath && !OperatingSystem.IsWindows())
            {
                // CurrentUserOnly checks the peer's user id; the mode keeps other users from even connecting.
                File.SetUnixFileMode(socketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
        catch
        {
            pipe.Dispose();
            throw;
        }

        return pipe;
    }
}
