using System.Runtime.CompilerServices;
using ProcIsolates.Channels.Spill;

namespace ProcIsolates.Channels.Broker;

/// <summary>
/// A channel's queue of serialized items, which charges each item queued to the worker that wrote it (see
/// <see cref="BrokerSession.Charge"/>), so that a worker's budget of bytes waiting in channels
/// (<see cref="WorkerBudgets.MaxQueuedBytes"/>) counts what it wrote, wherever it waits. A spilled item counts its file's
/// length. Items in flight to a worker's reader are charged to that reader instead, until it acknowledges them (<see cref="InFlightItems"/>).
/// </summary>
internal sealed class ItemQueue
{
    /// <summary>Who wrote each item that came from a worker; host writes have no entry.</summary>
    private static readonly ConditionalWeakTable<byte[], BrokerSession> Writers = [];

    private readonly LinkedList<byte[]> items = new();

    public int Count => items.Count;

    public LinkedListNode<byte[]>? First => items.First;

    /// <summary>Records that <paramref name="session"/>'s worker wrote <paramref name="item"/>, before it is queued.</summary>
    public static void WrittenBy(byte[] item, BrokerSession session) => Writers.AddOrUpdate(item, session);

    public void AddLast(byte[] item)
    {
        items.AddLast(item);
        Charge(item, +1);
    }

    public void AddFirst(byte[] item)
    {
        items.AddFirst(item);
        Charge(item, +1);
    }

    public void RemoveFirst()
    {
        byte[] item = items.First!.Value;
        items.RemoveFirst();
        Charge(item, -1);
    }

    private static void Charge(byte[] item, int sign)
    {
        if (Writers.TryGetValue(item, out BrokerSession? writer))
        {
            writer.Charge(sign * SpilledItem.CarriedLength(item));
        }
    }
}
