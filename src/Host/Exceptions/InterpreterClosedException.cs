namespace ProcIsolates;

/// <summary>The interpreter was closed (or never existed), so it cannot run anything.</summary>
public sealed class InterpreterClosedException : InterpreterException
{
    /// <summary>Initializes a new instance of the <see cref="InterpreterClosedException"/> class.</summary>
    /// <param name="interpreterId">The interpreter.</param>
    public InterpreterClosedException(long interpreterId)
        : base(interpreterId, $"Interpreter {interpreterId} is closed.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="InterpreterClosedException"/> class.</summary>
    /// <param name="interpreterId">The interpreter.</param>
    /// <param name="message">What happened.</param>
    public InterpreterClosedException(long interpreterId, string message)
        : base(interpreterId, message)
    {
    }
}
