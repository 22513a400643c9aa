namespace ProcIsolates;

/// <summary>A code string given to <see cref="Interpreter.ExecAsync"/> does not compile. Nothing was sent to the interpreter.</summary>
public sealed class CompilationFailedException : InterpreterException
{
    /// <summary>Initializes a new instance of the <see cref="CompilationFailedException"/> class.</summary>
    /// <param name="diagnostics">The compiler's errors, each as <c>(line,column): error CSxxxx: message</c>.</param>
    public CompilationFailedException(IReadOnlyList<string> diagnostics)
        : base("The code does not compile:" + Environment.NewLine + string.Join(Environment.NewLine, diagnostics ?? []))
    {
        Diagnostics = diagnostics ?? [];
    }

    /// <summary>The compiler's errors.</summary>
    public IReadOnlyList<string> Diagnostics { get; }
}
