namespace ProcIsolates.Protocol.Serialization;

/// <summary>A value cannot cross between interpreters. The host surfaces it to users as <c>ProcIsolates.NotShareableException</c>.</summary>
public sealed class NotShareableValueException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="NotShareableValueException"/> class.</summary>
    /// <param name="valueType">The type that cannot travel.</param>
    /// <param name="reason">Why.</param>
    /// <param name="innerException">The serializer's error, if any.</param>
    public NotShareableValueException(Type valueType, string reason, Exception? innerException = null)
        : base($"A value of type '{valueType}' is not shareable between interpreters: {reason}", innerException)
    {
        ValueType = valueType;
        Reason = reason;
    }

    /// <summary>The type that cannot travel.</summary>
    public Type ValueType { get; }

    /// <summary>Why it cannot travel.</summary>
    public string Reason { get; }
}
