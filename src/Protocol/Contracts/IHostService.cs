using StreamJsonRpc;

namespace ProcIsolates.Protocol.Contracts;

/// <summary>
/// The JSON-RPC methods a host serves to its workers, on the same calls connection (see docs/protocol.md). Worker
/// code is untrusted, so each is cheap, bounded and harmless to call any number of times.
/// </summary>
[JsonRpcContract]
public partial interface IHostService
{
    /// <summary>
    /// Hands out the next interpreter id, for an interpreter the worker is creating: ids are unique across the host
    /// and everything it started, because only the outermost host mints them (a worker that is itself a host asks its
    /// own host in turn).
    /// </summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The id, never used before in this tree of processes.</returns>
    Task<long> ReserveInterpreterIdAsync(CancellationToken cancellationToken);
}
