using ProcIsolates.Protocol.Messages;
using StreamJsonRpc;

namespace ProcIsolates.Protocol.Contracts;

/// <summary>
/// The JSON-RPC methods a worker serves to its host. Method names on the wire are the names below
/// (see docs/protocol.md); every parameter and result is a MessagePack object from <see cref="Messages"/>.
/// </summary>
[JsonRpcContract]
public partial interface IWorkerService
{
    /// <summary>Answers at once; the host uses it to learn that the worker is ready, and benchmarks use it as the empty call.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The worker's process id.</returns>
    Task<int> PingAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Makes the worker an interpreter. A worker may be started ahead of need (a spare) and initialized when an
    /// interpreter is created. The host sends it before any exec or call of the interpreter's; the worker does not
    /// enforce that (a spare warms up with a call first), but until then <c>Interpreters.Current</c> has no id there.
    /// </summary>
    /// <param name="request">Who the worker is.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The worker's process id.</returns>
    Task<int> InitializeAsync(InitializeRequest request, CancellationToken cancellationToken);

    /// <summary>Runs compiled code and returns what it wrote.</summary>
    /// <param name="request">The code and its variables.</param>
    /// <param name="cancellationToken">Cancelled when the host cancels the exec; the code sees it as <c>cancellationToken</c>.</param>
    /// <returns>The captured output, and the error if the code threw.</returns>
    Task<ExecReply> ExecAsync(ExecRequest request, CancellationToken cancellationToken);

    /// <summary>Calls a static method with serialized arguments.</summary>
    /// <param name="request">The method and its arguments.</param>
    /// <param name="cancellationToken">Passed to the method's <see cref="CancellationToken"/> parameters.</param>
    /// <returns>The serialized result, or the error the method threw.</returns>
    Task<CallReply> CallAsync(CallRequest request, CancellationToken cancellationToken);

    /// <summary>Asks the worker to exit once this reply has been sent.</summary>
    /// <returns>A task that completes when the request was accepted.</returns>
    Task ShutdownAsync();
}
