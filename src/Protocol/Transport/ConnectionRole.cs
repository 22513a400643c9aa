namespace ProcIsolates.Protocol.Transport;

/// <summary>
/// What one of a worker's two connections to its host carries. Calls have a connection of their own so that a call's
/// round trip pays for no multiplexing; channel data is multiplexed on the other.
/// </summary>
public enum ConnectionRole : byte
{
    /// <summary>JSON-RPC: the host's requests and the worker's replies.</summary>
    Calls = 0,

    /// <summary>A <c>MultiplexingStream</c> carrying channel data frames.</summary>
    ChannelData = 1,
}
