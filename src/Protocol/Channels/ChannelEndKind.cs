namespace ProcIsolates.Protocol.Channels;

/// <summary>Which part of an interpreter channel a handle stands for.</summary>
public enum ChannelEndKind : byte
{
    /// <summary>Both ends: the whole channel, a queue.</summary>
    Channel = 0,

    /// <summary>The reading end only.</summary>
    Reader = 1,

    /// <summary>The writing end only.</summary>
    Writer = 2,
}
