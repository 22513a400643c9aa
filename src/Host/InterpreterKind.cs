namespace ProcIsolates;

/// <summary>What an interpreter is: the host itself, or one created with an <see cref="Isolation"/> level.</summary>
public enum InterpreterKind
{
    /// <summary>The host process itself (<see cref="Interpreters.Main"/>, id 0).</summary>
    Main,

    /// <summary>A worker process of its own (<see cref="Isolation.Process"/>).</summary>
    Process,

    /// <summary>In the host process, in an assembly load context of its own (<see cref="Isolation.AssemblyLoadContext"/>).</summary>
    AssemblyLoadContext,

    /// <summary>In the host process, on its assemblies (<see cref="Isolation.Thread"/>).</summary>
    Thread,
}
