namespace ProcIsolates.Protocol.Channels;

/// <summary>A peer sent a channel-data frame that breaks the protocol; the connection that carried it cannot be trusted.</summary>
public sealed class ChannelProtocolException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="ChannelProtocolException"/> class.</summary>
    public ChannelProtocolException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ChannelProtocolException"/> class.</summary>
    /// <param name="message">What was wrong.</param>
    public ChannelProtocolException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ChannelProtocolException"/> class.</summary>
    /// <param name="message">What was wrong.</param>
    /// <param name="innerException">The decoder's error.</param>
    public ChannelProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
