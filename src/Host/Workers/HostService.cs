using ProcIsolates.Protocol.Contracts;

namespace ProcIsolates.Workers;

/// <summary>What this host serves its workers on their calls connections (see <see cref="IHostService"/>).</summary>
internal sealed class HostService : IHostService
{
    public Task<long> ReserveInterpreterIdAsync(CancellationToken cancellationToken) => Interpreters.ReserveIdAsync(cancellationToken);
}
