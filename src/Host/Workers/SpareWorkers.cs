namespace ProcIsolates.Workers;

/// <summary>
/// Workers started ahead of need. Starting a .NET worker costs hundreds of milliseconds (runtime start, then the JIT
/// of the RPC stack); with a spare ready, creating an interpreter costs one round trip. After each creation the host
/// starts a new spare in the background, so only the first interpreter of a process starts cold.
/// </summary>
internal static class SpareWorkers
{
    private static readonly Lock Gate = new();
    private static readonly Queue<Task<WorkerConnection>> Spares = new();
    private static int target = 1;

    /// <summary>How many spares to keep; 0 turns them off (and closes those there are).</summary>
    public static int Target
    {
        get => Volatile.Read(ref target);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            Task<WorkerConnection>[] surplus;
            lock (Gate)
            {
                target = value;
                surplus = Take(Spares.Count - value);
            }

            foreach (Task<WorkerConnection> spare in surplus)
            {
                _ = CloseWhenStartedAsync(spare);
            }
        }
    }

    /// <summary>Gives out a spare (perhaps still starting), or <see langword="null"/> if there is none.</summary>
    /// <returns>The spare.</returns>
    public static Task<WorkerConnection>? TryTake()
    {
        lock (Gate)
        {
            return Spares.TryDequeue(out Task<WorkerConnection>? spare) ? spare : null;
        }
    }

    /// <summary>Starts spares until there are <see cref="Target"/> of them.</summary>
    public static void Replenish()
    {
        lock (Gate)
        {
            while (Spares.Count < target)
            {
                Spares.Enqueue(StartSpareAsync());
            }
        }
    }

    /// <summary>Kills every spare at once, for when the host process is exiting.</summary>
    public static void KillAll()
    {
        lock (Gate)
        {
            foreach (Task<WorkerConnection> spare in Take(Spares.Count))
            {
                if (spare.IsCompletedSuccessfully)
                {
                    spare.Result.KillSilently();
                }
            }
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

    private static Task<WorkerConnection>[] Take(int count)
    {
        var taken = new Task<WorkerConnection>[Math.Max(count, 0)];
        for (int i = 0; i < taken.Length; i++)
        {
            taken[i] = Spares.Dequeue();
        }

        return taken;
    }

    private static async Task<WorkerConnection> StartSpareAsync()
    {
        // Off the caller's thread: the caller has just created an interpreter and goes on with its work.
        await Task.Yield();
        WorkerConnection connection = await WorkerConnection.StartAsync(InterpreterOptions.Default, CancellationToken.None).ConfigureAwait(false);
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
