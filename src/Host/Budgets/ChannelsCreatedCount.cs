namespace ProcIsolates;

/// <summary>
/// How many channels an interpreter's workers have created, over the interpreter's life: a worker that crashes is
/// replaced with the same count, so that crashing on purpose does not buy a fresh <see cref="WorkerBudgets.MaxChannelsCreated"/>.
/// </summary>
internal sealed class ChannelsCreatedCount
{
    private int count;

    /// <summary>Counts one more, unless that would pass <paramref name="max"/>.</summary>
    /// <returns>Whether it was counted.</returns>
    public bool TryAdd(int max)
    {
        while (true)
        {
            int now = Volatile.Read(ref count);
            if (now >= max)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref count, now + 1, now) == now)
            {
                return true;
            }
        }
    }
}
