using ProcIsolates.Protocol.Channels;

namespace ProcIsolates.Channels.Remote;

/// <summary>Reading: fetching items from the broker in batches, and handing them out.</summary>
internal sealed partial class RemoteChannelCore
{
    /// <summary>The most items a reader asks for at once.</summary>
    private const int MaxBatch = 256;

    /// <summary>A reader that comes back for more within this time of taking its last item is streaming, and fetches more at once.</summary>
    private static readonly long StreamingTicks = System.Diagnostics.Stopwatch.Frequency / 1000; // 1 ms

    private readonly Queue<byte[]> buffer = new();

    /// <summary>A fetch that waits at the broker for an item (<c>WaitToReadAsync</c>, or a read-ahead), and its number.</summary>
    private TaskCompletionSource? demand;
    private long demandRequest;

    /// <summary>A fetch that the broker answers at once, with what it holds (<c>TryRead</c>, <c>TryPeek</c>), and its number.</summary>
    private TaskCompletionSource? poll;
    private long pollRequest;

    private int batch = 1;
    private long lastHandOut;

    /// <summary>
    /// Takes an item. With none fetched, it asks the broker for what the channel holds now and waits for the answer
    /// (one round trip, blocking the calling thread), so that a <c>TryRead</c> loop takes every item waiting, as in one
    /// process; the answer brings a batch when the reader is streaming.
    /// </summary>
    public bool TryRead(out byte[] item)
    {
        if (TryReadBuffered(out item))
        {
            return true;
        }

        MoveOn(); // Coming back for more: the last item is finished with.
        return PollNow() && TryReadBuffered(out item);
    }

    public bool TryPeek(out byte[] item)
    {
        if (PeekBuffered(out item))
        {
            return true;
        }

        return PollNow() && PeekBuffered(out item);
    }

    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<bool>(cancellationToken) : WaitToReadCoreAsync(cancellationToken);

    private async ValueTask<bool> WaitToReadCoreAsync(CancellationToken cancellationToken)
    {
        bool acknowledge = MoveOn();
        lock (gate)
        {
            acknowledge &= buffer.Count == 0 && demand is not null;
        }

        if (acknowledge)
        {
            // A fetch is already waiting at the broker, so no new demand will carry the acknowledgement of what this
            // reader finished with; the channel could not end without it.
            client.Send(new ChannelFrame { Op = ChannelOp.Ack }, releaseCurrent: false);
        }

        while (true)
        {
            Task pending;
            long request = 0;
            lock (gate)
            {
                if (buffer.Count > 0)
                {
                    return true;
                }

                if (ended)
                {
                    return endError is null ? false : throw endError;
                }

                if (demand is null)
                {
                    request = StartDemandLocked();
                }

                pending = demand!.Task;
            }

            if (request != 0)
            {
                SendDemand(request, wait: true);
            }

            await WaitAsync(pending, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask<byte[]> ReadAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        MoveOn();
        while (true)
        {
            if (TryReadBuffered(out byte[] item))
            {
                return item;
            }

            bool more;
            try
            {
                more = await WaitToReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                throw ChannelErrors.Closed(ex); // As .NET's ReadAsync: ChannelClosedException around the completion error.
            }

            if (!more)
            {
                lock (gate)
                {
                    throw ChannelErrors.Closed(endError);
                }
            }
        }
    }

    /// <summary>Under the lock: a waiting fetch goes out; returns its number.</summary>
    private long StartDemandLocked()
    {
        AdaptBatch();
        demand = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        demandRequest = client.NextRequest();
        return demandRequest;
    }

    private void SendDemand(long request, bool wait) =>
        client.Send(new ChannelFrame { Op = ChannelOp.Demand, Channel = Handle.Id, A = batch, B = request, Flag = wait }, releaseCurrent: false);

    private bool TryReadBuffered(out byte[] item)
    {
        long readAhead = 0;
        lock (gate)
        {
            if (!buffer.TryDequeue(out byte[]? next))
            {
                item = [];
                return false;
            }

            item = next;
            lastHandOut = System.Diagnostics.Stopwatch.GetTimestamp();
            returnUnreadWanted = false;
            finished += current;
            current = 1;
            if (batch > 1 && buffer.Count < batch / 2 && demand is null && !ended)
            {
                readAhead = StartDemandLocked(); // Reading straight through a batch is streaming: the next one may be larger.
            }
        }

        if (readAhead != 0)
        {
            // Top the batch up while this one is being read. It waits at the broker if the channel is empty, so that a
            // reader that catches up with its writer is not a stream of empty answers.
            SendDemand(readAhead, wait: true);
        }

        return true;
    }

    /// <summary>Called under the lock when a fetch goes out: grows the batch for a streaming reader, resets it for a slow one.</summary>
    private void AdaptBatch()
    {
        bool streaming = lastHandOut != 0 && System.Diagnostics.Stopwatch.GetTimestamp() - lastHandOut < StreamingTicks;
        batch = Handle.Capacity == 0 ? 1 : streaming ? Math.Min(batch * 2, MaxBatch) : 1;
    }

    private bool PeekBuffered(out byte[] item)
    {
        lock (gate)
        {
            if (buffer.TryPeek(out byte[]? next))
            {
                item = next;
                return true;
            }
        }

        item = [];
        return false;
    }

    /// <summary>
    /// For the synchronous <c>TryRead</c>/<c>TryPeek</c>: asks the broker for what it holds now and waits for the answer
    /// (at most <see cref="SyncWait"/>). A fetch already waiting at the broker does not answer "nothing now", so the
    /// poll is a request of its own; the broker answers requests in order, so when its answer is here, so is anything
    /// delivered before it.
    /// </summary>
    private bool PollNow()
    {
        while (true)
        {
            Task pending;
            long request = 0;
            lock (gate)
            {
                if (buffer.Count > 0)
                {
                    return true;
                }

                if (ended)
                {
                    return false;
                }

                if (returning is not null)
                {
                    pending = returning.Task; // Unread items are on their way back: fetch after them.
                }
                else if (poll is not null)
                {
                    pending = poll.Task; // Another thread's poll is on its way: its answer serves this one too.
                }
                else
                {
                    AdaptBatch();
                    poll = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    request = pollRequest = client.NextRequest();
                    pending = poll.Task;
                }
            }

            if (request != 0)
            {
                SendDemand(request, wait: false);
                return WaitSync(pending);
            }

            if (!WaitSync(pending))
            {
                return false;
            }
        }
    }
}
