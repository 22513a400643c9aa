namespace ProcIsolates;

/// <summary>
/// A sandbox asked for a restriction that this operating system, kernel or user cannot enforce; nothing was started.
/// ProcIsolates never starts a worker with less confinement than asked for.
/// </summary>
public sealed class SandboxNotSupportedException : InterpreterException
{
    /// <summary>Initializes a new instance of the <see cref="SandboxNotSupportedException"/> class.</summary>
    /// <param name="restriction">The restriction, named as its <see cref="SandboxOptions"/> property.</param>
    /// <param name="reason">Why it cannot be enforced here.</param>
    public SandboxNotSupportedException(string restriction, string reason)
        : base($"The sandbox cannot enforce SandboxOptions.{restriction} here: {reason}.")
    {
        Restriction = restriction;
        Reason = reason;
    }

    /// <summary>The restriction that cannot be enforced, named as its <see cref="SandboxOptions"/> property (e.g. <c>MemoryLimit</c>).</summary>
    public string Restriction { get; }

    /// <summary>Why it cannot be enforced here.</summary>
    public string Reason { get; }
}
