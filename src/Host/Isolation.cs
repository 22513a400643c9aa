namespace ProcIsolates;

/// <summary>How strongly an interpreter is isolated from the host and from other interpreters (see docs/isolation.md).</summary>
public enum Isolation
{
    /// <summary>
    /// A worker process of its own (the default): separate statics, memory, environment and crashes; the host survives
    /// anything the code does. Values cross a pipe.
    /// </summary>
    Process,

    /// <summary>
    /// In the host process, with the app's own assemblies loaded again into a collectible
    /// <see cref="System.Runtime.Loader.AssemblyLoadContext"/> of the interpreter's: its statics are its own, but it
    /// shares the host's memory, garbage collector, environment and fate (a crash ends the host).
    /// </summary>
    AssemblyLoadContext,

    /// <summary>
    /// In the host process, on the host's own assemblies: no isolation at all, the baseline the other levels are
    /// measured against. Values are still copied, so code behaves as it would in the other levels.
    /// </summary>
    Thread,
}
