namespace ProcIsolates.Workers;

/// <summary>
/// Workers started ahead of need. Starting a .NET worker costs hundreds of milliseconds (runtime start, then the JIT
/// of the RPC stack); with a spare ready, creating an interpreter costs one round trip. After each creation the host
/// starts a new spare in the background, so only the first interpreter of a process starts cold.
/// </summary>
/// <remarks>
/// A spare is started with the sandbox it will be handed out with: a sandbox cannot be put on a process after its
/// start (seccomp and Landlock are installed by the worker before it serves anything). So spares are kept for each
/// sandbox an interpreter was created with, <see cref="Target"/> of each, for the <see cref="MaxKinds"/> sandboxes used
/// last; the spares of a sandbox that drops out of those are closed.
/// </remarks>
internal static class SpareWorkers
{
    /// <summary>How many sandboxes (<see cref="SandboxOptions.None"/> included) have spares at the same time.</summary>
    public const int MaxKinds = 4;

    private static readonly Lock Gate = new();

    // Most recently used first; each kind's spares in the order they were started.
    private static readonly List<(SandboxOptions Kind, Queue<Task<WorkerConnection>> Spares)> Kinds = [];
    private static int target = 1;

    /// <summary>How many spares to keep for each sandbox in use; 0 turns them off (and closes those there are).</summary>
    public static int Target
    {
        get => Volatile.Read(ref target);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            List<Task<WorkerConnection>> surplus = [];
            lock (Gate)
            {
                target = value;
                foreach ((_, Queue<Task<WorkerConnection>> spares) in Kinds)
                {
                    surplus.AddRange(Take(spares, spares.Count - value));
                }

                if (value == 0)
                {
                    Kinds.Clear();
                }
            }

            CloseAll(surplus);
        }
    }

    /// <summary>Gives out a spare (perhaps still starting) started with <paramref name="kind"/>, or <see langword="null"/> if there is none.</summary>
    /// <returns>The spare.</returns>
    public static Task<WorkerConnection>? TryTake(SandboxOptions kind)
    {
        lock (Gate)
        {
            int index = IndexOf(kind);
            return index >= 0 && Kinds[index].Spares.TryDequeue(out Task<WorkerConnection>? spare) ? spare : null;
        }
    }

    /// <summary>The spare <see cref="TryTake"/> would give out next, left where it is (for tests).</summary>
    /// <returns>The spare, or <see langword="null"/>.</returns>
    internal static Task<WorkerConnection>? Peek(SandboxOptions kind)
    {
        lock (Gate)
        {
            int index = IndexOf(kind);
            return index >= 0 && Kinds[index].Spares.TryPeek(out Task<WorkerConnection>? spare) ? spare : null;
        }
    }

    /// <summary>Starts spares with <paramref name="kind"/> until there are <see cref="Target"/> of them; makes it the kind used last.</summary>
    public static void Replenish(SandboxOptions kind)
    {
        // A copy: the caller's path lists could change later, and spares are matched (and started) by value.
        kind = kind with { ReadablePaths = [.. kind.ReadablePaths], WritablePaths = [.. kind.WritablePaths] };
        List<Task<WorkerConnection>> dropped = [];
        lock (Gate)
        {
            if (target == 0)
            {
                return;
            }

            int index = IndexOf(kind);
            (SandboxOptions Kind, Queue<Task<WorkerConnection>> Spares) entry = index >= 0 ? Kinds[index] : (kind, new Queue<Task<WorkerConnection>>());
            if (index >= 0)
            {
                Kinds.RemoveAt(index);
            }

            Kinds.Insert(0, entry);
            while (Kinds.Count > MaxKinds)
            {
                Queue<Task<WorkerConnection>> oldest = Kinds[^1].Spares;
                Kinds.RemoveAt(Kinds.Count - 1);
                dropped.AddRange(Take(oldest, oldest.Count));
            }

            while (entry.Spares.Count < target)
            {
                entry.Spares.Enqueue(StartSpareAsync(kind));
            }
        }

        CloseAll(dropped);
    }

    /// <summary>Kills every spare at once, for when the host process is exiting.</summary>
    public static void KillAll()
    {
        lock (Gate)
        {
            foreach ((_, Queue<Task<WorkerConnection>> spares) in Kinds)
            {
                foreach (Task<WorkerConnection> spare in Take(spares, spares.Count))
                {
                    if (spare.IsCompletedSuccessfully)
                    {
                        spare.Result.KillSilently();
                    }
                }
            }

            Kinds.Clear();
        }
    }

    /// <summary>Closes a spare that was taken but not used.</summary>
    /// <param name="spare">The spare.</param>
    /// <returns>A task that completes when it is closed.</returns>
    public static async Task CloseWhenStartedAsync(Task<WorkerConnection> spare)
    {
        try
        {
            WorkerConnection connection = await spare.ConfigureAwait(false);
            await connection.CloseAsync(TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
        }
        catch (InterpreterException)
        {
            // It never started: nothing to close.
        }
    }

    private static int IndexOf(SandboxOptions kind) => Kinds.FindIndex(entry => entry.Kind.Equals(kind));

    private static void CloseAll(List<Task<WorkerConnection>> spares)
    {
        foreach (Task<WorkerConnection> spare in spares)
        {
            _ = CloseWhenStartedAsync(spare);
        }
    }

    private static Task<WorkerConnection>[] Take(Queue<Task<WorkerConnection>> spares, int count)
    {
        var taken = new Task<WorkerConnection>[Math.Max(count, 0)];
        for (int i = 0; i < taken.Length; i++)
        {
            taken[i] = spares.Dequeue();
        }

        return taken;
    }

    private static async Task<WorkerConnection> StartSpareAsync(SandboxOptions kind)
    {
        // Off the caller's thread: the caller has just created an interpreter and goes on with its work.
        await Task.Yield();
        InterpreterOptions options = kind.IsNone ? InterpreterOptions.Default : new InterpreterOptions { Sandbox = kind };
        WorkerConnection connection = await WorkerConnection.StartAsync(options, CancellationToken.None).ConfigureAwait(false);
        try
        {
            await connection.WarmUpAsync().ConfigureAwait(false);
        }
        catch (InterpreterException)
        {
            await connection.CloseAsync(TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        return connection;
    }
}
