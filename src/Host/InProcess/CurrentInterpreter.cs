namespace ProcIsolates.InProcess;

/// <summary>
/// Which in-process interpreter the calling code runs in. In-process interpreters share the host's statics, so
/// <see cref="Interpreters.Current"/> cannot be a static there: it flows with each exec and call instead.
/// </summary>
internal static class CurrentInterpreter
{
    private static readonly AsyncLocal<Interpreter?> Running = new();

    /// <summary>The in-process interpreter whose exec or call the calling code is part of, if any.</summary>
    public static Interpreter? Value => Running.Value;

    /// <summary>Marks the rest of the calling async flow as <paramref name="interpreter"/>'s.</summary>
    /// <param name="interpreter">The interpreter.</param>
    public static void Set(Interpreter interpreter) => Running.Value = interpreter;
}
