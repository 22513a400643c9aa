namespace ProcIsolates;

/// <summary>A value cannot cross between interpreters: it is not data (a stream, a delegate, a handle…) or cannot be serialized.</summary>
public sealed class NotShareableException : InterpreterException
{
    /// <summary>Initializes a new instance of the <see cref="NotShareableException"/> class.</summary>
    /// <param name="valueTypeName">The full name of the value's type.</param>
    /// <param name="message">Why it cannot be shared.</param>
    /// <param name="innerException">The serializer's error, if any.</param>
    public NotShareableException(string valueTypeName, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ValueTypeName = valueTypeName;
    }

    /// <summary>The full name of the type that cannot be shared.</summary>
    public string ValueTypeName { get; }
}
