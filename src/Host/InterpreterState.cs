namespace ProcIsolates;

/// <summary>Where an interpreter is in its life.</summary>
public enum InterpreterState
{
    /// <summary>Its worker process is starting.</summary>
    Starting,

    /// <summary>Ready, and running nothing.</summary>
    Idle,

    /// <summary>Running at least one exec or call.</summary>
    Running,

    /// <summary>Closed by the user; it runs nothing more.</summary>
    Closed,

    /// <summary>Its worker process died; it runs nothing more.</summary>
    Crashed,
}
