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
internal sealed class BrokeredChannel : IChannelCore
{
    /// <summary>How many rendezvous items one worker may have on offer at once before it is cut off.</summary>
    private const int MaxPendingOffers = 10_000;

    /// <summary>A delivery to a worker holds at most this many bytes, unless one item is larger.</summary>
    private const int DeliveryBudget = 4 * 1024 * 1024;

    private readonly Lock gate = new();
    private readonly LinkedList<byte[]> queue = new();
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

    public BrokeredChannel(ChannelHandle handle, Action<BrokeredChannel, Exception?>? onEnded)
    {
        Handle = handle;
        this.onEnded = onEnded;
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
                return queue.Count + (IsRendezvous ? pendingWrites.Count : 0);
            }
        }
    }

    /// <summary>Makes a channel that has already ended: what a handle to an unknown (or long finished) channel stands for.</summary>
    public static BrokeredChannel AlreadyEnded(ChannelHandle handle, Exception? error)
    {
        var channel = new BrokeredChannel(handle, onEnded: null) { tombstone = true };
        channel.TryComplete(error);
        return channel;
    }

    // ---- Host-side ends ------------------------------------------------------------------------------------------

    public bool TryRead(out byte[] item)
    {
        lock (gate)
        {
            if (HasItems)
            {
                item = TakeOne();
                Pump();
                return true;
            }
        }

        item = [];
        return false;
    }

    public bool TryPeek(out byte[] item)
    {
        lock (gate)
        {
            if (queue.First is { } first)
            {
                item = first.Value;
                return true;
            }

            if (IsRendezvous && pendingWrites.First is { } offer)
            {
                item = offer.Value.Bytes;
                return true;
            }
        }

        item = [];
        return false;
    }

    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        TaskCompletionSource<bool> watcher;
        lock (gate)
        {
            if (HasItems)
            {
                return ValueTask.FromResult(true);
            }

            if (ended)
            {
                return error is null ? ValueTask.FromResult(false) : ValueTask.FromException<bool>(error);
            }

            watcher = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            readWatchers.Add(watcher);
        }

        return new ValueTask<bool>(WithCancellation(watcher, () => readWatchers.Remove(watcher), cancellationToken));
    }

    public ValueTask<byte[]> ReadAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<byte[]>(cancellationToken);
        }

        var reader = new ReadWaiter(null, 0);
        lock (gate)
        {
            if (HasItems)
            {
                byte[] item = TakeOne();
                Pump();
                return ValueTask.FromResult(item);
            }

            if (ended)
            {
                return ValueTask.FromException<byte[]>(ChannelErrors.Closed(error));
            }

            reader.Node = blockedReaders.AddLast(reader);
            Pump(); // A blocked reader lets rendezvous writers in.
        }

        return new ValueTask<byte[]>(WithCancellation(reader.Local!, () => RemoveReader(reader), cancellationToken));
    }

    public bool MayAcceptWrite()
    {
        lock (gate)
        {
            // As TryWrite decides: a blocked reader takes the item, or there is room in the queue.
            return !writingClosed && ((!HasItems && blockedReaders.First is not null) || (!IsRendezvous && (!IsBounded || HasRoom)));
        }
    }

    public bool TryWrite(byte[] item)
    {
        lock (gate)
        {
            if (writingClosed)
            {
                return false;
            }

            if (HandToBlockedReader(item))
            {
                Entered();
                Pump();
                return true;
            }

            if (IsRendezvous || (IsBounded && !HasRoom))
            {
                return false;
            }

            queue.AddLast(item);
            Entered();
            Pump();
            return true;
        }
    }

    public ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        TaskCompletionSource<bool> watcher;
        lock (gate)
        {
            if (writingClosed)
            {
                return error is null ? ValueTask.FromResult(false) : ValueTask.FromException<bool>(error);
            }

            if (CanWriteNow)
            {
                return ValueTask.FromResult(true);
            }

            watcher = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            writeWatchers.Add(watcher);
        }

        return new ValueTask<bool>(WithCancellation(watcher, () => writeWatchers.Remove(watcher), cancellationToken));
    }

    public ValueTask WriteAsync(byte[] item, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        LinkedListNode<PendingWrite> node;
        lock (gate)
        {
            if (writingClosed)
            {
                return ValueTask.FromException(ChannelErrors.Closed(error));
            }

            Entered();
            if (HandToBlockedReader(item))
            {
                Pump();
                return ValueTask.CompletedTask;
            }

            if (!IsRendezvous && (!IsBounded || HasRoom))
            {
                queue.AddLast(item);
                Pump();
                return ValueTask.CompletedTask;
            }

            node = pendingWrites.AddLast(new PendingWrite(item, null, failure => Settle(done, failure)));
            Pump(); // A rendezvous offer is an item for WaitToReadAsync: wake readers waiting for one.
        }

        return new ValueTask(WithCancellation(done, () => RemovePendingWrite(node), cancellationToken));
    }

    public bool TryComplete(Exception? completionError)
    {
        lock (gate)
        {
            if (writingClosed)
            {
                return false;
            }

            writingClosed = true;
            error = completionError;

            // Writes still waiting for room or a reader never made it into the channel.
            Exception closed = ChannelErrors.Closed(error);
            foreach (PendingWrite pending in pendingWrites)
            {
                pending.Done(closed);
                ChannelItems.Discard(pending.Bytes); // Refused: a spilled item's file goes (its writer may be gone).
            }

            pendingWrites.Clear();
            foreach (TaskCompletionSource<bool> watcher in writeWatchers)
            {
                Settle(watcher, error);
            }

            writeWatchers.Clear();
            foreach (CreditRequest request in creditRequests)
            {
                request.Session.Send(CreditFrame(0));
            }

            creditRequests.Clear();
            foreach (BrokerSession session in sessions.Keys)
            {
                session.Send(CompletedFrame(drained: false));
            }

            CheckEnded();
            return true;
        }
    }

    // ---- Workers, through their sessions -------------------------------------------------------------------------

    public void Attach(BrokerSession session)
    {
        lock (gate)
        {
            StateOf(session);
            if (writingClosed)
            {
                session.Send(CompletedFrame(drained: ended));
            }
        }
    }

    public void Write(BrokerSession session, long sequence, byte[] item)
    {
        lock (gate)
        {
            SessionState state = StateOf(session);
            if (writingClosed)
            {
                if (sequence != 0)
                {
                    session.Send(new ChannelFrame { Op = ChannelOp.Confirm, Channel = Handle.Id, A = sequence, ErrorType = typeof(ChannelClosedException).FullName, ErrorMessage = "The channel was completed before the item arrived." });
                }

                ChannelItems.Discard(item);
                return; // A write that crossed a Complete from another process: dropped (confirmed as refused if asked).
            }

            if (state.Credits > 0)
            {
                state.Credits--;
                if (IsBounded)
                {
                    reserved--;
                }
            }
            else if (IsBounded)
            {
                // Our client always holds a slot for a bounded write; one without is a worker ignoring backpressure.
                throw new ChannelProtocolException($"A worker wrote to bounded channel {Handle.Id} without a write slot.");
            }
            else if (IsRendezvous && state.PendingOffers >= MaxPendingOffers)
            {
                throw new ChannelProtocolException($"A worker offered more than {MaxPendingOffers} items at once to rendezvous channel {Handle.Id}.");
            }

            Entered();
            Action<Exception?> confirm = sequence == 0 ? static _ => { } : failure => session.Send(ConfirmFrame(sequence, failure));
            if (!IsRendezvous && (!IsBounded || HasRoom))
            {
                // Queued even if a reader waits: the session hands out what arrived together in DeliverPending.
                queue.AddLast(item);
                confirm(null);
                return;
            }

            if (HandToBlockedReader(item))
            {
                confirm(null);
            }
            else if (IsRendezvous)
            {
                state.PendingOffers++;
                pendingWrites.AddLast(new PendingWrite(item, session, failure =>
                {
                    state.PendingOffers--;
                    confirm(failure);
                })
                { Sequence = sequence });
            }
            else
            {
                queue.AddLast(item);
                confirm(null);
            }

            Pump();
        }
    }

    public void Demand(BrokerSession session, int max, bool wait)
    {
        lock (gate)
        {
            StateOf(session);
            if (HasItems)
            {
                Deliver(session, Math.Max(1, max));
            }
            else if (ended)
            {
                session.Send(DeliverFrame([], ended: true));
            }
            else if (wait)
            {
                var reader = new ReadWaiter(session, Math.Max(1, max));
                reader.Node = blockedReaders.AddLast(reader);
            }
            else
            {
                session.Send(DeliverFrame([], ended: false));
            }

            Pump();
        }
    }

    public void Acknowledge(BrokerSession session, int count)
    {
        lock (gate)
        {
            if (!sessions.TryGetValue(session, out SessionState? state) || count < 0 || count > state.InFlight.Count)
            {
                throw new ChannelProtocolException($"A worker acknowledged {count} items of channel {Handle.Id}, but holds {(state?.InFlight.Count ?? 0)}.");
            }

            for (int i = 0; i < count; i++)
            {
                ChannelItems.Discard(state.InFlight.First!.Value); // Read for good: a spilled item's file goes.
                state.InFlight.RemoveFirst();
            }

            inFlight -= count;
            CheckEnded();
        }
    }

    /// <summary>Serves waiting readers with what workers wrote since the last call (see <see cref="BrokerSession"/>).</summary>
    public void DeliverPending()
    {
        lock (gate)
        {
            Pump();
        }
    }

    /// <summary>The worker did not read the last <paramref name="count"/> items delivered to it: they go back to the head, in order.</summary>
    public void ReturnUnread(BrokerSession session, int count)
    {
        lock (gate)
        {
            if (tombstone)
            {
                return; // The channel ended meanwhile: nothing is held any more.
            }

            if (!sessions.TryGetValue(session, out SessionState? state) || count < 0 || count > state.InFlight.Count)
            {
                throw new ChannelProtocolException($"A worker returned {count} items of channel {Handle.Id}, but holds {(state?.InFlight.Count ?? 0)}.");
            }

            for (int i = 0; i < count; i++)
            {
                queue.AddFirst(state.InFlight.Last!.Value);
                state.InFlight.RemoveLast();
            }

            inFlight -= count;
            Pump();
        }
    }

    /// <summary>The worker will not use <paramref name="count"/> of the write slots it was granted.</summary>
    public void ReturnCredit(BrokerSession session, int count)
    {
        lock (gate)
        {
            if (tombstone)
            {
                return; // The channel ended meanwhile: nothing is held any more.
            }

            if (!sessions.TryGetValue(session, out SessionState? state) || count < 0 || count > state.Credits)
            {
                throw new ChannelProtocolException($"A worker returned {count} write slots of channel {Handle.Id}, but holds {(state?.Credits ?? 0)}.");
            }

            state.Credits -= count;
            if (IsBounded)
            {
                reserved -= count;
            }

            Pump();
        }
    }

    public void WantCredit(BrokerSession session, int wanted, bool wait)
    {
        lock (gate)
        {
            SessionState state = StateOf(session);
            if (writingClosed)
            {
                session.Send(CreditFrame(0));
                return;
            }

            int granted = Grantable(Math.Max(1, wanted));
            if (granted > 0)
            {
                Grant(state, session, granted);
            }
            else if (wait)
            {
                creditRequests.AddLast(new CreditRequest(session, Math.Max(1, wanted)));
            }
            else
            {
                session.Send(CreditFrame(0));
            }
        }
    }

    /// <summary>
    /// Takes back a worker's rendezvous write that its writer cancelled, if no reader has taken it: like a cancelled
    /// rendezvous write in one process, it is then never delivered. Either way the worker gets its confirmation.
    /// </summary>
    public void Retract(BrokerSession session, long sequence)
    {
        lock (gate)
        {
            for (LinkedListNode<PendingWrite>? node = pendingWrites.First; node is not null; node = node.Next)
            {
                if (node.Value.Session == session && node.Value.Sequence == sequence && sequence != 0)
                {
                    pendingWrites.Remove(node);
                    ChannelItems.Discard(node.Value.Bytes);
                    StateOf(session).PendingOffers--;
                    session.Send(new ChannelFrame { Op = ChannelOp.Confirm, Channel = Handle.Id, A = sequence, Flag = true });
                    Pump();
                    return;
                }
            }

            // Not waiting any more: a reader took it (or the channel refused it), and that confirmation is on its way.
        }
    }

    public void Withdraw(BrokerSession session)
    {
        lock (gate)
        {
            for (LinkedListNode<ReadWaiter>? node = blockedReaders.First; node is not null;)
            {
                LinkedListNode<ReadWaiter>? next = node.Next;
                if (node.Value.Session == session)
                {
                    blockedReaders.Remove(node);
                    session.Send(DeliverFrame([], ended: false));
                }

                node = next;
            }

            for (LinkedListNode<CreditRequest>? node = creditRequests.First; node is not null;)
            {
                LinkedListNode<CreditRequest>? next = node.Next;
                if (node.Value.Session == session)
                {
                    creditRequests.Remove(node);
                    session.Send(CreditFrame(0));
                }

                node = next;
            }
        }
    }

    public void SendCount(BrokerSession session, long request)
    {
        int count = Count;
        session.Send(new ChannelFrame { Op = ChannelOp.CountReply, Channel = Handle.Id, A = request, B = count });
    }

    /// <summary>The worker behind <paramref name="session"/> is gone: what it held goes back, what it waited for is dropped.</summary>
    public void Release(BrokerSession session)
    {
        lock (gate)
        {
            if (!sessions.Remove(session, out SessionState? state))
            {
                return;
            }

            for (LinkedListNode<byte[]>? node = state.InFlight.Last; node is not null; node = node.Previous)
            {
                queue.AddFirst(node.Value); // Back to the head, in their original order.
            }

            inFlight -= state.InFlight.Count;
            if (IsBounded)
            {
                reserved -= state.Credits;
            }

            RemoveWhere(blockedReaders, r => r.Session == session);
            RemoveWhere(creditRequests, r => r.Session == session);
            Pump();
        }
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

    private SessionState StateOf(BrokerSession session)
    {
        if (tombstone)
        {
            return new SessionState(); // An ended stand-in answers, but holds nothing to release.
        }

        if (!sessions.TryGetValue(session, out SessionState? state))
        {
            state = new SessionState();
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
            reader.Session!.Send(DeliverFrame([item], ended: false));
        }

        return true;
    }

    private void Deliver(BrokerSession session, int max)
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
        session.Send(DeliverFrame(items, ended: false));
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
                    Deliver(reader.Session!, reader.Max);
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
            Grant(StateOf(request.Value.Session), request.Value.Session, granted);
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

    private void Grant(SessionState state, BrokerSession session, int granted)
    {
        state.Credits += granted;
        if (IsBounded)
        {
            reserved += granted;
        }

        session.Send(CreditFrame(granted));
    }

    private void CheckEnded()
    {
        if (ended || !writingClosed || queue.Count > 0 || pendingWrites.Count > 0 || inFlight > 0)
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
                reader.Session!.Send(DeliverFrame([], ended: true));
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

    private ChannelFrame DeliverFrame(List<byte[]> items, bool ended) => new()
    {
        Op = ChannelOp.Deliver,
        Channel = Handle.Id,
        Items = items,
        Flag = ended,
        ErrorType = ended ? ChannelErrors.TypeName(error) : null,
        ErrorMessage = ended ? ChannelErrors.Message(error) : null,
    };

    private ChannelFrame CreditFrame(int granted) => new()
    {
        Op = ChannelOp.Credit,
        Channel = Handle.Id,
        A = granted,
        Flag = writingClosed,
        ErrorType = ChannelErrors.TypeName(error),
        ErrorMessage = ChannelErrors.Message(error),
    };

    private ChannelFrame CompletedFrame(bool drained) => new()
    {
        Op = ChannelOp.Completed,
        Channel = Handle.Id,
        Flag = drained,
        ErrorType = ChannelErrors.TypeName(error),
        ErrorMessage = ChannelErrors.Message(error),
    };

    private ChannelFrame ConfirmFrame(long sequence, Exception? failure) => new()
    {
        Op = ChannelOp.Confirm,
        Channel = Handle.Id,
        A = sequence,
        ErrorType = failure is null ? null : typeof(ChannelClosedException).FullName,
        ErrorMessage = failure?.Message,
    };

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

    /// <summary>A reader blocked until an item comes: a host <c>ReadAsync</c> (<see cref="Local"/>) or a worker's demand.</summary>
    private sealed class ReadWaiter(BrokerSession? session, int max)
    {
        public TaskCompletionSource<byte[]>? Local { get; } = session is null ? new(TaskCreationOptions.RunContinuationsAsynchronously) : null;

        public BrokerSession? Session { get; } = session;

        public int Max { get; } = max;

        public LinkedListNode<ReadWaiter>? Node { get; set; }
    }

    /// <summary>A write waiting for room (bounded) or for a reader (rendezvous); <see cref="Done"/> reports it taken or refused.</summary>
    private sealed record PendingWrite(byte[] Bytes, BrokerSession? Session, Action<Exception?> Done)
    {
        /// <summary>The worker's number for the write, to confirm or retract it; 0 for a host write or an unconfirmed one.</summary>
        public long Sequence { get; init; }
    }

    private sealed record CreditRequest(BrokerSession Session, int Wanted);

    /// <summary>What one worker holds of this channel: items delivered but not acknowledged, and write slots granted but not used.</summary>
    private sealed class SessionState
    {
        public LinkedList<byte[]> InFlight { get; } = new();

        public int Credits { get; set; }

        public int PendingOffers { get; set; }
    }
}
