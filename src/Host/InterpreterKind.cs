namespace ProcIsolates;

/// <summary>How an interpreter is isolated from the host.</summary>
public enum InterpreterKind
{
    /// <summary>The host process itself (<see cref="Interpreters.Main"/>, id 0).</summary>
    Main,

    /// <summary>A worker process of its own.</summary>
    Process,
}
