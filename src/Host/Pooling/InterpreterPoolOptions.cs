namespace ProcIsolates;

/// <summary>How an <see cref="InterpreterPool"/> sizes, starts and recycles its interpreters.</summary>
public sealed class InterpreterPoolOptions
{
    /// <summary>How many interpreters the pool starts at once and keeps alive; 0 by default.</summary>
    public int MinInterpreters { get; init; }

    /// <summary>The most interpreters (and so the most operations running at once); <see cref="Environment.ProcessorCount"/> by default.</summary>
    public int MaxInterpreters { get; init; } = Environment.ProcessorCount;

    /// <summary>After this many operations an interpreter is closed and replaced (fresh statics, fresh heap); <see langword="null"/> for never.</summary>
    public int? MaxTasksPerInterpreter { get; init; }

    /// <summary>Options for each interpreter the pool creates.</summary>
    public InterpreterOptions? InterpreterOptions { get; init; }

    /// <summary>
    /// How the pool's interpreters are isolated; <see langword="null"/> (the default) for
    /// <see cref="ProcIsolates.InterpreterOptions.Isolation"/> of <see cref="InterpreterOptions"/> (a worker process unless set).
    /// </summary>
    public Isolation? Isolation { get; init; }

    /// <summary>The options each member is created with.</summary>
    internal InterpreterOptions MemberOptions
    {
        get
        {
            InterpreterOptions options = InterpreterOptions ?? ProcIsolates.InterpreterOptions.Default;
            return Isolation is { } isolation ? options.WithIsolation(isolation) : options;
        }
    }

    /// <summary>Runs once in each new interpreter before it takes work, e.g. to load data or set statics; a failure fails the operation that needed it.</summary>
    public Func<Interpreter, CancellationToken, Task>? Initializer { get; init; }

    internal void Validate()
    {
        if (MaxInterpreters < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxInterpreters), MaxInterpreters, "InterpreterPoolOptions.MaxInterpreters must be at least 1.");
        }

        if (MinInterpreters < 0 || MinInterpreters > MaxInterpreters)
        {
            throw new ArgumentOutOfRangeException(nameof(MinInterpreters), MinInterpreters, "InterpreterPoolOptions.MinInterpreters must be between 0 and MaxInterpreters.");
        }

        if (MaxTasksPerInterpreter is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxTasksPerInterpreter), MaxTasksPerInterpreter, "InterpreterPoolOptions.MaxTasksPerInterpreter must be at least 1 (or null).");
        }
    }
}
