namespace ProcIsolates.Channels.Broker;

/// <summary>A write waiting for room (bounded) or for a reader (rendezvous); <see cref="Done"/> reports it taken or refused.</summary>
internal sealed record PendingWrite(byte[] Bytes, BrokerSession? Session, Action<Exception?> Done)
{
    /// <summary>The worker's number for the write, to confirm or retract it; 0 for a host write or an unconfirmed one.</summary>
    public long Sequence { get; init; }
}
