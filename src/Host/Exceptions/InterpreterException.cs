namespace ProcIsolates;

/// <summary>The base of every error an interpreter reports.</summary>
public class InterpreterException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="InterpreterException"/> class.</summary>
    public InterpreterException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="InterpreterException"/> class.</summary>
    /// <param name="message">What went wrong.</param>
    public InterpreterException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="InterpreterException"/> class.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public InterpreterException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="InterpreterException"/> class.</summary>
    /// <param name="interpreterId">The interpreter concerned.</param>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public InterpreterException(long? interpreterId, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        InterpreterId = interpreterId;
    }

    /// <summary>The id of the interpreter concerned, if there is one.</summary>
    public long? InterpreterId { get; }
}
