namespace ProcIsolates.Protocol.Transport;

/// <summary>The two ends of a pipe did not agree on who they are; the connection is dropped.</summary>
public sealed class HandshakeException : IOException
{
    /// <summary>Initializes a new instance of the <see cref="HandshakeException"/> class.</summary>
    public HandshakeException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="HandshakeException"/> class.</summary>
    /// <param name="message">What went wrong.</param>
    public HandshakeException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="HandshakeException"/> class.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public HandshakeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
