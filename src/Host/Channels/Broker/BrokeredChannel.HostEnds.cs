using System.Threading.Channels;
using ProcIsolates.Protocol.Channels;

namespace ProcIsolates.Channels.Broker;

/// <summary>Channel operations of ends in the host process: they act on the queue directly.</summary>
internal sealed partial class BrokeredChannel
{
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

        var reader = new ReadWaiter(null, 0, 0);
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
                request.Session.Send(CreditFrame(0, request.Request));
            }

            creditRequests.Clear();
            foreach ((BrokerSession session, SessionState state) in sessions)
            {
                // Until the worker says it saw this, a write it sent before it knew is still taken (see Write).
                state.CompletionUnseen = true;
                session.Send(CompletedFrame(drained: false));
            }

            CheckEnded();
            return true;
        }
    }
}
