namespace ProcIsolates.Worker.Execution;

/// <summary>A call request that the worker cannot carry out as asked: an unknown type or method, or arguments that do not fit.</summary>
internal sealed class BadCallException : Exception
{
    public BadCallException(string message)
        : base(message)
    {
    }

    public BadCallException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
