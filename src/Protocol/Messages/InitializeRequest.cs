using MessagePack;

namespace ProcIsolates.Protocol.Messages;

/// <summary>Tells a connected worker which interpreter it is. Sent once, before any exec or call.</summary>
[MessagePackObject]
public sealed class InitializeRequest
{
    /// <summary>The interpreter id the host gave this worker; <c>Interpreters.Current.Id</c> in the worker.</summary>
    [Key(0)]
    public long InterpreterId { get; init; }
}
