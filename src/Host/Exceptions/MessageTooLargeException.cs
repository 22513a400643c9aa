namespace ProcIsolates;

/// <summary>A call or exec would send a message larger than <see cref="InterpreterOptions.MaxMessageSize"/>; nothing was sent.</summary>
public sealed class MessageTooLargeException : InterpreterException
{
    /// <summary>Initializes a new instance of the <see cref="MessageTooLargeException"/> class.</summary>
    /// <param name="interpreterId">The interpreter concerned.</param>
    /// <param name="size">The size of what would have been sent, in bytes.</param>
    /// <param name="limit">The limit, in bytes.</param>
    public MessageTooLargeException(long interpreterId, long size, int limit)
        : base(interpreterId, $"The request to interpreter {interpreterId} would be {size} bytes; InterpreterOptions.MaxMessageSize is {limit}. Nothing was sent. Pass large data through a channel, or raise the limit.")
    {
        Size = size;
        Limit = limit;
    }

    /// <summary>The size of what would have been sent, in bytes.</summary>
    public long Size { get; }

    /// <summary>The limit, in bytes.</summary>
    public int Limit { get; }
}
