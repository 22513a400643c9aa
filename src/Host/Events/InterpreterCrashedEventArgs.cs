namespace ProcIsolates;

/// <summary>Describes the crash of an interpreter's worker, for <see cref="Interpreter.Crashed"/>.</summary>
public sealed class InterpreterCrashedEventArgs : EventArgs
{
    /// <summary>Initializes a new instance of the <see cref="InterpreterCrashedEventArgs"/> class.</summary>
    /// <param name="crash">The crash: exit code, signal and the last lines of the worker's standard error.</param>
    public InterpreterCrashedEventArgs(InterpreterCrashedException crash) => Crash = crash;

    /// <summary>The crash: exit code, signal and the last lines of the worker's standard error.</summary>
    public InterpreterCrashedException Crash { get; }
}
