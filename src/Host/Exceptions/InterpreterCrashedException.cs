namespace ProcIsolates;

/// <summary>The interpreter's worker process died (or was killed) while it was in use.</summary>
public sealed class InterpreterCrashedException : InterpreterException
{
    /// <summary>Initializes a new instance of the <see cref="InterpreterCrashedException"/> class.</summary>
    /// <param name="interpreterId">The interpreter.</param>
    /// <param name="exitCode">The worker's exit code, if it has exited.</param>
    /// <param name="signal">The signal that ended it, where the platform tells.</param>
    /// <param name="stderrTail">The last lines the worker wrote to standard error.</param>
    /// <param name="reason">Why the host thinks it ended, when the host stopped it itself.</param>
    public InterpreterCrashedException(long interpreterId, int? exitCode, int? signal, string stderrTail, string? reason = null)
        : base(interpreterId, Describe(interpreterId, exitCode, signal, stderrTail, reason))
    {
        ExitCode = exitCode;
        Signal = signal;
        StderrTail = stderrTail;
        Reason = reason;
    }

    /// <summary>The worker's exit code, or <see langword="null"/> if it had not exited when this was raised.</summary>
    public int? ExitCode { get; }

    /// <summary>The signal that ended the worker (Unix), or <see langword="null"/>.</summary>
    public int? Signal { get; }

    /// <summary>The last lines the worker wrote to standard error; often the runtime's own report of the crash.</summary>
    public string StderrTail { get; }

    /// <summary>Why the host stopped the worker itself (for example a cancelled call that did not stop), or <see langword="null"/>.</summary>
    public string? Reason { get; }

    private static string Describe(long id, int? exitCode, int? signal, string stderrTail, string? reason)
    {
        string how = signal is { } s ? $"was killed by signal {s}" : exitCode is { } c ? $"exited with code {c}" : "stopped answering";
        string text = $"The worker process of interpreter {id} {how}.";
        if (reason is not null)
        {
            text += " " + reason;
        }

        return string.IsNullOrWhiteSpace(stderrTail) ? text : $"{text} Its last standard error output:{Environment.NewLine}{stderrTail}";
    }
}
