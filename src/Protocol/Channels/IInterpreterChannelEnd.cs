namespace ProcIsolates.Protocol.Channels;

/// <summary>An end of a channel brokered by the host: it can travel to another interpreter as its <see cref="Handle"/>.</summary>
public interface IInterpreterChannelEnd
{
    /// <summary>The handle that stands for this end in another interpreter.</summary>
    ChannelHandle Handle { get; }
}
