namespace ProcIsolates.Protocol.Channels;

/// <summary>
/// What travels in place of a channel end: the channel's id in the host's broker, its capacity and which end it is.
/// The id is random, so that a worker cannot reach a channel it was never given by guessing.
/// </summary>
/// <param name="Id">The channel's id in the broker.</param>
/// <param name="Capacity"><see cref="Unbounded"/>, 0 for a rendezvous channel, else the bound.</param>
/// <param name="Kind">Which end.</param>
public readonly record struct ChannelHandle(long Id, int Capacity, ChannelEndKind Kind)
{
    /// <summary>The <see cref="Capacity"/> of an unbounded channel.</summary>
    public const int Unbounded = -1;

    /// <summary>The same channel as another end.</summary>
    /// <param name="kind">The end.</param>
    /// <returns>The handle of that end.</returns>
    public ChannelHandle As(ChannelEndKind kind) => this with { Kind = kind };
}
