namespace ProcIsolates;

/// <summary>Code run in an interpreter threw. The remote exception is described by name, since its object stays in the interpreter.</summary>
public sealed class ExecutionFailedException : InterpreterException
{
    /// <summary>Initializes a new instance of the <see cref="ExecutionFailedException"/> class.</summary>
    /// <param name="interpreterId">The interpreter the code ran in.</param>
    /// <param name="remoteTypeName">The full name of the exception's type.</param>
    /// <param name="remoteMessage">The exception's message.</param>
    /// <param name="remoteStackTrace">The exception's text in the interpreter, stack trace and inner exceptions included.</param>
    /// <param name="stdout">What the code wrote to standard output before it failed (execs only).</param>
    /// <param name="stderr">What the code wrote to standard error before it failed (execs only).</param>
    public ExecutionFailedException(long interpreterId, string remoteTypeName, string remoteMessage, string? remoteStackTrace, string stdout = "", string stderr = "")
        : base(interpreterId, $"Code in interpreter {interpreterId} threw {remoteTypeName}: {remoteMessage}")
    {
        RemoteTypeName = remoteTypeName;
        RemoteMessage = remoteMessage;
        RemoteStackTrace = remoteStackTrace;
        Stdout = stdout;
        Stderr = stderr;
    }

    /// <summary>The full name of the remote exception's type, e.g. <c>System.InvalidOperationException</c>.</summary>
    public string RemoteTypeName { get; }

    /// <summary>The remote exception's message.</summary>
    public string RemoteMessage { get; }

    /// <summary>The remote exception's text: type, message, stack trace and inner exceptions.</summary>
    public string? RemoteStackTrace { get; }

    /// <summary>What the code wrote to standard output before it threw (empty for calls).</summary>
    public string Stdout { get; }

    /// <summary>What the code wrote to standard error before it threw (empty for calls).</summary>
    public string Stderr { get; }

    /// <inheritdoc/>
    public override string ToString() =>
        RemoteStackTrace is null ? base.ToString() : $"{base.ToString()}{Environment.NewLine}--- remote exception ---{Environment.NewLine}{RemoteStackTrace}";
}
