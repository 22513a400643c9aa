namespace ProcIsolates;

/// <summary>
/// A channel was completed with an error in another interpreter. Exceptions do not cross processes, so readers see
/// this in its place, with the original's type name and message.
/// </summary>
public sealed class RemoteChannelException : InterpreterException
{
    /// <summary>Initializes a new instance of the <see cref="RemoteChannelException"/> class.</summary>
    /// <param name="remoteTypeName">The full name of the original exception's type.</param>
    /// <param name="remoteMessage">The original exception's message.</param>
    public RemoteChannelException(string remoteTypeName, string? remoteMessage)
        : base($"{remoteTypeName}: {remoteMessage}")
    {
        RemoteTypeName = remoteTypeName;
        RemoteMessage = remoteMessage;
    }

    /// <summary>The full name of the original exception's type.</summary>
    public string RemoteTypeName { get; }

    /// <summary>The original exception's message.</summary>
    public string? RemoteMessage { get; }
}
