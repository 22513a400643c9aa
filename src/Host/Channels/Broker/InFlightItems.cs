namespace ProcIsolates.Channels.Broker;

/// <summary>
/// Items delivered to one worker on one channel and not yet acknowledged, oldest first. The host holds them until the
/// worker says it is done with them, so they are charged to that worker's budget of queued bytes
/// (<see cref="WorkerBudgets.MaxQueuedBytes"/>): a worker that asks for items and never acknowledges them is cut off,
/// as one that writes and never reads is. A spilled item counts what the host holds of it (its reference), not its
/// file, which stays its writer's: one large item a writer was allowed must not cut off the reader that takes it.
/// </summary>
internal sealed class InFlightItems(BrokerSession? holder)
{
    private readonly LinkedList<byte[]> items = new();

    public int Count => items.Count;

    public byte[] First => items.First!.Value;

    public byte[] Last => items.Last!.Value;

    public void AddLast(byte[] item)
    {
        items.AddLast(item);
        holder?.Charge(item.Length);
    }

    public void RemoveFirst()
    {
        holder?.Charge(-items.First!.Value.Length);
        items.RemoveFirst();
    }

    public void RemoveLast()
    {
        holder?.Charge(-items.Last!.Value.Length);
        items.RemoveLast();
    }

    /// <summary>Takes every item out, newest first (the order they go back to the head of their channel in).</summary>
    public IEnumerable<byte[]> TakeAllNewestFirst()
    {
        while (items.Last is { } last)
        {
            RemoveLast();
            yield return last.Value;
        }
    }
}
