using System.Threading.Channels;
using ProcIsolates.Protocol.Channels;

namespace ProcIsolates.Channels.Broker;

/// <summary>
/// One channel as the host's broker holds it: its items, in order, as serialized bytes (the broker never needs
/// <c>T</c>), and everyone waiting on it, in this process and in workers. Host-side ends use it directly; workers
/// reach it through their <see cref="BrokerSession"/>.
/// </summary>
/// <remarks>
/// Items delivered to a worker's reader stay "in flight" until that worker acknowledges them; if the worker goes
/// away first they return to the head of the channel, in order. The channel ends (its <see cref="Completion"/>
/// completes) once writing was completed and no item is waiting or in flight.
/// </remarks>
internal sealed partial class BrokeredChannel : IChannelCore
{
    /// <summary>How many rendezvous items one worker may have on offer at once before it is cut off.</summary>
    private const int MaxPendingOffers = 10_000;

    /// <summary>A delivery to a worker holds at most this many bytes, unless one item is larger.</summary>
    private const int DeliveryBudget = 4 * 1024 * 1024;

    private readonly Lock gate = new();
    private readonly ItemQueue queue = new();
    private readonly LinkedList<ReadWaiter> blockedReaders = new();
    private readonly List<TaskCompletionSource<bool>> readWatchers = [];
    private readonly LinkedList<PendingWrite> pendingWrites = new();
    private readonly List<TaskCompletionSource<bool>> writeWatchers = [];
    private readonly LinkedList<CreditRequest> creditRequests = new();
    private readonly Dictionary<BrokerSession, SessionState> sessions = [];
    private readonly TaskCompletionSource completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action<BrokeredChannel, Exception?>? onEnded;
    private bool tombstone;
    private bool writingClosed;
    private Exception? error;
    private bool ended;
    private int reserved;
    private int inFlight;

    public BrokeredChannel(ChannelHandle handle, Action<BrokeredChannel, Exception?>? onEnded, BrokerSession? creator = null)
    {
        Handle = handle;
        this.onEnded = onEnded;
        this.creator = creator;
        shared = creator is null;
    }

    public ChannelHandle Handle { get; }

    public Task Completion => completion.Task;

    private int Capacity => Handle.Capacity;

    private bool IsRendezvous => Capacity == 0;

    private bool IsBounded => Capacity > 0;

    public bool ReadsAreFinal => true;

    public int Count
    {
        get
        {
            lock (gate)
            {
                return queue.Count; // As in .NET: a rendezvous writer waiting for a reader is not an item in the channel.
            }
        }
    }

    /// <summary>Makes a channel that has already ended: what a handle to an unknown (or long finished) channel stands for.</summary>
    public static BrokeredChannel AlreadyEnded(ChannelHandle handle, Exception? error)
    {
        var channel = new BrokeredChannel(handle, onEnded: null) { tombstone = true, shared = true };
        channel.TryComplete(error);
        return channel;
    }

    // ---- The rules -----------------------------------------------------------------------------------------------

    private bool HasItems => queue.Count > 0 || (IsRendezvous && pendingWrites.Count > 0);

    private bool HasRoom => queue.Count + reserved < Capacity;

    private int BlockedReaderCount => blockedReaders.Count;

    private bool CanWriteNow => !IsBounded && !IsRendezvous
        || (IsBounded && HasRoom)
        || (IsRendezvous && BlockedReaderCount > pendingWrites.Count + OutstandingCredits);

    private int OutstandingCredits
    {
        get
        {
            int total = 0;
            foreach (SessionState state in sessions.Values)
            {
                total += state.Credits;
            }

            return total;
        }
    }

    /// <summary>A worker that has not yet seen the completion may still have a write on its way, which would be taken.</summary>
    private bool AnyCompletionUnseen
    {
        get
        {
            foreach (SessionState state in sessions.Values)
            {
                if (state.CompletionUnseen)
                {
                    return true;
                }
            }

            return false;
        }
    }

    private SessionState StateOf(BrokerSession session)
    {
        if (tombstone)
        {
            return new SessionState(); // An ended stand-in answers, but holds nothing to release.
        }

        if (!sessions.TryGetValue(session, out SessionState? state))
        {
            state = new SessionState(session);
            sessions.Add(session, state);
            session.Track(this);
        }

        return state;
    }

    private byte[] TakeOne()
    {
        if (queue.First is { } first)
        {
            queue.RemoveFirst();
            return first.Value;
        }

        // Rendezvous: the item goes straight from its writer to this reader.
        PendingWrite offer = pendingWrites.First!.Value;
        pendingWrites.RemoveFirst();
        offer.Done(null);
        return offer.Bytes;
    }

    private bool HandToBlockedReader(byte[] item)
    {
        if (HasItems || blockedReaders.First is not { } node)
        {
            return false;
        }

        blockedReaders.RemoveFirst();
        ReadWaiter reader = node.Value;
        if (reader.Local is { } local)
        {
            local.TrySetResult(item);
        }
        else
        {
            SessionState state = StateOf(reader.Session!);
            state.InFlight.AddLast(item);
            inFlight++;
            reader.Session!.Send(DeliverFrame([item], ended: false, reader.Request));
        }

        return true;
    }

    private void Deliver(BrokerSession session, int max, long request)
    {
        SessionState state = StateOf(session);
        var items = new List<byte[]>(Math.Min(max, 64));
        long bytes = 0;
        while (items.Count < max && HasItems)
        {
            long length = HeadLength();
            if (items.Count > 0 && bytes + length > DeliveryBudget)
            {
                break;
            }

            byte[] item = TakeOne();
            bytes += length;
            items.Add(item);
            state.InFlight.AddLast(item);
        }

        inFlight += items.Count;
        session.Send(DeliverFrame(items, ended: false, request));
    }

    private static void Entered() => Diagnostics.ProcIsolatesTelemetry.ChannelItems.Add(1);

    // The length of the item TakeOne would take. A spilled item counts as long as the item it stands for: the budget
    // limits what one reader takes at once.
    private long HeadLength() => (queue.First?.Value ?? pendingWrites.First?.Value.Bytes) is { } head ? Spill.SpilledItem.CarriedLength(head) : 0;

    /// <summary>Brings everyone up to date after any change: writes waiting for room, readers waiting for items, ends.</summary>
    private void Pump()
    {
        // Serving readers can make room for blocked writers, whose items can serve more readers: repeat until still.
        bool changed;
        do
        {
            changed = false;
            while (IsBounded && pendingWrites.First is { } pending && HasRoom)
            {
                pendingWrites.RemoveFirst();
                if (!HandToBlockedReader(pending.Value.Bytes))
                {
                    queue.AddLast(pending.Value.Bytes);
                }

                pending.Value.Done(null);
                changed = true;
            }

            while (HasItems && blockedReaders.First is { } node)
            {
                blockedReaders.RemoveFirst();
                ReadWaiter reader = node.Value;
                if (reader.Local is { } local)
                {
                    local.TrySetResult(TakeOne());
                }
                else
                {
                    Deliver(reader.Session!, reader.Max, reader.Request);
                }

                changed = true;
            }
        }
        while (changed);

        if (HasItems && readWatchers.Count > 0)
        {
            foreach (TaskCompletionSource<bool> watcher in readWatchers)
            {
                watcher.TrySetResult(true);
            }

            readWatchers.Clear();
        }

        while (creditRequests.First is { } request && Grantable(request.Value.Wanted) is var granted and > 0)
        {
            creditRequests.RemoveFirst();
            Grant(StateOf(request.Value.Session), request.Value.Session, granted, request.Value.Request);
        }

        if (writeWatchers.Count > 0 && !writingClosed && CanWriteNow)
        {
            foreach (TaskCompletionSource<bool> watcher in writeWatchers)
            {
                watcher.TrySetResult(true);
            }

            writeWatchers.Clear();
        }

        CheckEnded();
    }

    private int Grantable(int wanted) =>
        IsBounded ? Math.Min(wanted, Math.Max(0, Capacity - queue.Count - reserved))
        : IsRendezvous ? (BlockedReaderCount > pendingWrites.Count + OutstandingCredits ? 1 : 0)
        : wanted;

    private void Grant(SessionState state, BrokerSession session, int granted, long request)
    {
        state.Credits += granted;
        if (IsBounded)
        {
            reserved += granted;
        }

        session.Send(CreditFrame(granted, request));
    }

    private void CheckEnded()
    {
        if (ended || !writingClosed || queue.Count > 0 || pendingWrites.Count > 0 || inFlight > 0 || AnyCompletionUnseen)
        {
            return;
        }

        ended = true;
        Exception closed = ChannelErrors.Closed(error);
        foreach (ReadWaiter reader in blockedReaders)
        {
            if (reader.Local is { } local)
            {
                local.TrySetException(closed);
            }
            else
            {
                reader.Session!.Send(DeliverFrame([], ended: true, reader.Request));
            }
        }

        blockedReaders.Clear();
        foreach (TaskCompletionSource<bool> watcher in readWatchers)
        {
            Settle(watcher, error);
        }

        readWatchers.Clear();
        foreach (BrokerSession session in sessions.Keys)
        {
            session.Send(CompletedFrame(drained: true));
        }

        if (error is null)
        {
            completion.TrySetResult();
        }
        else if (error is OperationCanceledException canceled)
        {
            completion.TrySetCanceled(canceled.CancellationToken); // As .NET's channels do.
        }
        else
        {
            completion.TrySetException(error);
        }

        onEnded?.Invoke(this, error);
    }

    private static void Settle(TaskCompletionSource<bool> watcher, Exception? failure)
    {
        if (failure is null)
        {
            watcher.TrySetResult(false);
        }
        else
        {
            watcher.TrySetException(failure);
        }
    }

    private async Task<T> WithCancellation<T>(TaskCompletionSource<T> source, Action remove, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            return await source.Task.ConfigureAwait(false);
        }

        using CancellationTokenRegistration registration = cancellationToken.Register(() =>
        {
            lock (gate)
            {
                if (source.Task.IsCompleted)
                {
                    return;
                }

                remove();
                source.TrySetCanceled(cancellationToken);
            }
        });
        return await source.Task.ConfigureAwait(false);
    }

    private void RemoveReader(ReadWaiter reader)
    {
        if (reader.Node?.List is not null)
        {
            blockedReaders.Remove(reader.Node);
        }
    }

    private void RemovePendingWrite(LinkedListNode<PendingWrite> node)
    {
        if (node.List is not null)
        {
            pendingWrites.Remove(node);
            Pump();
        }
    }

    private static void RemoveWhere<T>(LinkedList<T> list, Func<T, bool> match)
    {
        for (LinkedListNode<T>? node = list.First; node is not null;)
        {
            LinkedListNode<T>? next = node.Next;
            if (match(node.Value))
            {
                list.Remove(node);
            }

            node = next;
        }
    }
}
