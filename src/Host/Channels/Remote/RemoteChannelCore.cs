using System.Collections.Concurrent;
using ProcIsolates.Protocol.Channels;

namespace ProcIsolates.Channels.Remote;

/// <summary>
/// A channel as a worker sees it: its reads and writes go to the host's broker over the <see cref="ChannelClient"/>.
/// A reader fetches items in batches when it waits (and tops its batch up while it reads), and a writer of a bounded
/// or rendezvous channel holds slots the broker reserved for it, so that a stream of items is not a stream of round trips.
/// </summary>
internal sealed class RemoteChannelCore : IChannelCore
{
    /// <summary>The most items a reader asks for at once.</summary>
    private const int MaxBatch = 256;

    /// <summary>A reader that comes back for more within this time of taking its last item is streaming, and fetches more at once.</summary>
    private static readonly long StreamingTicks = System.Diagnostics.Stopwatch.Frequency / 1000; // 1 ms

    /// <summary>The longest a synchronous member waits for the broker; a starved thread pool must not turn it into a hang.</summary>
    private static readonly TimeSpan SyncWait = TimeSpan.FromSeconds(2);

    private readonly ChannelClient client;
    private readonly Lock gate = new();
    private readonly Queue<byte[]> buffer = new();
    private readonly ConcurrentDictionary<long, TaskCompletionSource> confirms = new();
    private readonly TaskCompletionSource completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource? demand;
    private TaskCompletionSource? creditRequest;
    private bool ended;
    private Exception? endError;
    private bool writingClosed;
    private Exception? closeError;
    private int credits;
    private bool returnUnreadWanted;
    private TaskCompletionSource? returning;
    private int batch = 1;
    private long lastHandOut;
    private bool draining;
    private bool writeStreak;
    private bool returnCreditsWanted;
    private int current;
    private int finished;
    private long lastSequence;

    public RemoteChannelCore(ChannelClient client, ChannelHandle handle)
    {
        this.client = client;
        Handle = handle;
    }

    public ChannelHandle Handle { get; }

    /// <summary>
    /// Reading it means this process waits for the end: the item its reader handed out last is finished with, and is
    /// acknowledged now, since the channel cannot end while it is unacknowledged.
    /// </summary>
    public Task Completion
    {
        get
        {
            if (MoveOn())
            {
                client.Send(new ChannelFrame { Op = ChannelOp.Ack }, releaseCurrent: false);
            }

            return completion.Task;
        }
    }

    private bool IsUnbounded => Handle.Capacity == ChannelHandle.Unbounded;

    /// <summary>How many items a reader asks for at once: one for rendezvous, whose writers wait for each hand-over.</summary>
    /// <summary>
    /// How many items the reader asks for: one at first, doubling while it comes straight back for more after taking
    /// its last item (a stream), back to one when it took its time with it (a worker doing a job per item), so that one busy reader does not hoard the
    /// jobs other readers could take. Always one for rendezvous, whose writers wait for each hand-over.
    /// </summary>
    private int ReadBatch => batch;

    /// <summary>
    /// Write slots asked for at a time: a quarter of the capacity, so that four writers can share a full channel, and at
    /// most as many as a read batch. Each batch costs the writer a round trip to the broker, which is what bounds a
    /// bounded channel's rate (with 64 at most, capacity 1,024 moved half the items/s of an unbounded channel).
    /// </summary>
    private int CreditBatch => Handle.Capacity <= 0 ? 1 : Math.Clamp(Handle.Capacity / 4, 1, MaxBatch);

    public bool ReadsAreFinal => false;

    public int Count
    {
        get
        {
            long waiting = client.Request(Handle.Id, ChannelOp.Count);
            lock (gate)
            {
                return (int)Math.Min(int.MaxValue, waiting + buffer.Count);
            }
        }
    }

    // ---- Reading -------------------------------------------------------------------------------------------------

    /// <summary>
    /// Takes an item this process has fetched. With none fetched, a <c>TryRead</c> that follows other reads of a batch
    /// (the <c>WaitToReadAsync</c>/<c>TryRead</c> loop) answers <see langword="false"/> at once and asks for more in the
    /// background; any other asks the broker and waits for its answer, so that a lone <c>TryRead</c> sees what the
    /// channel holds.
    /// </summary>
    public bool TryRead(out byte[] item)
    {
        if (TryReadBuffered(out item))
        {
            return true;
        }

        MoveOn(); // Coming back for more: the last item is finished with.
        return FetchNow() && TryReadBuffered(out item);
    }

    public bool TryPeek(out byte[] item)
    {
        if (PeekBuffered(out item))
        {
            return true;
        }

        return FetchNow() && PeekBuffered(out item);
    }

    public async ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken)
    {
        bool acknowledge = MoveOn();
        lock (gate)
        {
            draining = false;
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
            bool send = false;
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
                    demand = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    send = true;
                    AdaptBatch();
                }

                pending = demand.Task;
            }

            if (send)
            {
                client.Send(new ChannelFrame { Op = ChannelOp.Demand, Channel = Handle.Id, A = ReadBatch, Flag = true }, releaseCurrent: false);
            }

            await WaitAsync(pending, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask<byte[]> ReadAsync(CancellationToken cancellationToken)
    {
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

    // ---- Writing -------------------------------------------------------------------------------------------------

    public bool MayAcceptWrite()
    {
        lock (gate)
        {
            if (writingClosed)
            {
                return false;
            }

            if (IsUnbounded || credits > 0)
            {
                return true;
            }
        }

        // The slots FetchCreditNow brings stay in this process, for the TryWrite that follows. When it does not wait
        // (a request is already out, or in a stream of writes), slots may still have come meanwhile.
        FetchCreditNow();
        lock (gate)
        {
            return !writingClosed && credits > 0;
        }
    }

    public bool TryWrite(byte[] item)
    {
        CheckSize(item);
        if (!TakeWriteSlot(out bool closed))
        {
            if (closed || !FetchCreditNow() || !TakeWriteSlot(out _))
            {
                return false;
            }
        }

        SendWrite(item, 0);
        return true;
    }

    public async ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task pending;
            bool send = false;
            lock (gate)
            {
                if (writingClosed)
                {
                    return closeError is null ? false : throw closeError;
                }

                if (IsUnbounded || credits > 0)
                {
                    return true;
                }

                if (creditRequest is null)
                {
                    creditRequest = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    send = true;
                }

                pending = creditRequest.Task;
            }

            if (send)
            {
                client.Send(new ChannelFrame { Op = ChannelOp.WantCredit, Channel = Handle.Id, A = CreditBatch, Flag = true }, releaseCurrent: false);
            }

            await WaitAsync(pending, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask WriteAsync(byte[] item, CancellationToken cancellationToken)
    {
        CheckSize(item);
        cancellationToken.ThrowIfCancellationRequested(); // As .NET's channels: a cancelled write writes nothing.

        // A rendezvous write is offered without a slot (using one if it holds one) and confirmed when a reader takes it.
        while (!TakeWriteSlot(out bool closed) && Handle.Capacity != 0)
        {
            bool more;
            try
            {
                more = !closed && await WaitToWriteAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                throw ChannelErrors.Closed(ex);
            }

            if (!more)
            {
                lock (gate)
                {
                    throw ChannelErrors.Closed(closeError);
                }
            }
        }

        lock (gate)
        {
            if (writingClosed)
            {
                throw ChannelErrors.Closed(closeError);
            }
        }

        long sequence = Interlocked.Increment(ref lastSequence);
        var confirmed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        confirms[sequence] = confirmed;
        SendWrite(item, sequence);

        if (Handle.Capacity != 0)
        {
            // With a slot held the broker takes the item at once: the confirmation is one round trip away, and a
            // write that happened must not report a cancellation.
            await confirmed.Task.ConfigureAwait(false);
            return;
        }

        try
        {
            await confirmed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (confirmed.Task.IsCompletedSuccessfully)
            {
                return; // A reader took it as the token fired: the write happened.
            }

            // A rendezvous offer waits for a reader: take it back. The broker answers either way, so the outcome is
            // exact: taken back (cancelled, never delivered) or a reader had it first (written).
            client.Send(new ChannelFrame { Op = ChannelOp.Retract, Channel = Handle.Id, A = sequence }, releaseCurrent: false);
            try
            {
                await confirmed.Task.ConfigureAwait(false);
            }
            catch (OperationCanceledException retracted)
            {
                throw new OperationCanceledException(retracted.Message, retracted, cancellationToken);
            }
        }
    }

    public bool TryComplete(Exception? error)
    {
        lock (gate)
        {
            if (writingClosed)
            {
                return false;
            }

            writingClosed = true;
            closeError = error;
        }

        client.Send(new ChannelFrame { Op = ChannelOp.Complete, Channel = Handle.Id, ErrorType = ChannelErrors.TypeName(error), ErrorMessage = ChannelErrors.Message(error) }, releaseCurrent: false);
        return true;
    }

    // ---- Acknowledgements ----------------------------------------------------------------------------------------

    /// <summary>
    /// Takes the count of items this end's reader has finished with: those it read before the last one, and with
    /// <paramref name="releaseCurrent"/> the last one too.
    /// </summary>
    public int TakeAcknowledgements(bool releaseCurrent)
    {
        lock (gate)
        {
            int count = finished;
            finished = 0;
            if (releaseCurrent)
            {
                count += current;
                current = 0;
            }

            return count;
        }
    }

    /// <summary>Whether this end's reader handed out items not yet acknowledged.</summary>
    public bool HasUnacknowledged
    {
        get
        {
            lock (gate)
            {
                return finished + current > 0;
            }
        }
    }

    /// <summary>
    /// The code that used this end has finished its exec or call: items fetched and not read go back to the head of
    /// the channel for other readers, and write slots not used go back to the broker.
    /// </summary>
    public void ReleaseUnused()
    {
        int unread = 0;
        int unusedCredits = 0;
        lock (gate)
        {
            draining = writeStreak = false;
            if (demand is null)
            {
                unread = TakeBufferForReturn();
            }
            else
            {
                returnUnreadWanted = true; // A delivery is on its way: give it all back when it arrives.
            }

            if (creditRequest is null)
            {
                unusedCredits = credits;
                credits = 0;
            }
            else
            {
                returnCreditsWanted = true;
            }
        }

        SendReturns(unread, unusedCredits);
    }

    /// <summary>
    /// Under the lock: empties the buffer for a return, and holds further fetches back until the return is sent. The
    /// broker returns the last items it delivered, so a fetch answered before the return arrived would be returned in
    /// place of these (delivered and returned: a duplicate).
    /// </summary>
    private int TakeBufferForReturn()
    {
        int count = buffer.Count;
        foreach (byte[] item in buffer)
        {
            Spill.SpillStore.CloseDelivered(item);
        }

        buffer.Clear();
        if (count > 0)
        {
            demand = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            returning = demand;
        }

        return count;
    }

    private void SendReturns(int unread, int unusedCredits)
    {
        if (unread > 0)
        {
            client.Send(new ChannelFrame { Op = ChannelOp.ReturnUnread, Channel = Handle.Id, A = unread }, releaseCurrent: false);
            TaskCompletionSource? sent;
            lock (gate)
            {
                sent = returning;
                returning = null;
                if (ReferenceEquals(demand, sent))
                {
                    demand = null;
                }
            }

            sent?.TrySetResult(); // Readers waiting meanwhile fetch again, after the return.
        }

        if (unusedCredits > 0)
        {
            client.Send(new ChannelFrame { Op = ChannelOp.ReturnCredit, Channel = Handle.Id, A = unusedCredits }, releaseCurrent: false);
        }
    }

    // ---- From the host -------------------------------------------------------------------------------------------

    public void Receive(ChannelFrame frame)
    {
        if (frame.Items is { Count: > 0 } delivered)
        {
            Spill.SpillStore.OpenDelivered(delivered);
        }

        TaskCompletionSource? wake = null;
        bool nowEnded = false;
        int unread = 0;
        int unusedCredits = 0;
        lock (gate)
        {
            switch (frame.Op)
            {
                case ChannelOp.Deliver:
                    foreach (byte[] item in frame.Items ?? [])
                    {
                        buffer.Enqueue(item);
                    }

                    if (frame.Flag)
                    {
                        nowEnded = EndLocked(ChannelErrors.FromFrame(frame));
                    }

                    wake = demand;
                    demand = null;
                    if (returnUnreadWanted)
                    {
                        returnUnreadWanted = false;
                        unread = TakeBufferForReturn();
                    }

                    break;
                case ChannelOp.Credit:
                    credits += (int)frame.A;
                    if (frame.Flag)
                    {
                        writingClosed = true;
                        closeError ??= ChannelErrors.FromFrame(frame);
                    }

                    wake = creditRequest;
                    creditRequest = null;
                    if (returnCreditsWanted)
                    {
                        returnCreditsWanted = false;
                        unusedCredits = credits;
                        credits = 0;
                    }

                    break;
                case ChannelOp.Completed:
                    writingClosed = true;
                    closeError ??= ChannelErrors.FromFrame(frame);
                    if (frame.Flag)
                    {
                        nowEnded = EndLocked(ChannelErrors.FromFrame(frame));
                    }

                    wake = creditRequest;
                    creditRequest = null;
                    break;
                case ChannelOp.Confirm:
                    if (confirms.TryRemove(frame.A, out TaskCompletionSource? confirmed))
                    {
                        if (frame.Flag)
                        {
                            confirmed.TrySetCanceled(); // Taken back after a Retract: the write never happened.
                        }
                        else if (frame.ErrorType is null)
                        {
                            confirmed.TrySetResult();
                        }
                        else
                        {
                            confirmed.TrySetException(new System.Threading.Channels.ChannelClosedException(frame.ErrorMessage));
                        }
                    }

                    break;
            }
        }

        SendReturns(unread, unusedCredits);
        wake?.TrySetResult();
        if (nowEnded)
        {
            CompleteCompletion();
        }
    }

    /// <summary>The host connection ended: nothing more will come.</summary>
    public void HostGone()
    {
        var gone = new InterpreterException("The connection to the host has ended.");
        TaskCompletionSource? waitingRead;
        TaskCompletionSource? waitingCredit;
        lock (gate)
        {
            writingClosed = true;
            closeError ??= gone;
            EndLocked(gone);
            waitingRead = demand;
            waitingCredit = creditRequest;
            demand = creditRequest = null;
        }

        waitingRead?.TrySetResult();
        waitingCredit?.TrySetResult();
        foreach (TaskCompletionSource confirm in confirms.Values)
        {
            confirm.TrySetException(gone);
        }

        CompleteCompletion();
    }

    private bool EndLocked(Exception? error)
    {
        if (ended)
        {
            return false;
        }

        ended = true;
        endError = error;
        return true;
    }

    private void CompleteCompletion()
    {
        Exception? error;
        lock (gate)
        {
            error = endError;
        }

        if (error is null)
        {
            completion.TrySetResult();
        }
        else
        {
            completion.TrySetException(error);
        }
    }

    private bool TryReadBuffered(out byte[] item)
    {
        bool readAhead;
        lock (gate)
        {
            if (!buffer.TryDequeue(out byte[]? next))
            {
                item = [];
                return false;
            }

            item = next;
            draining = true;
            lastHandOut = System.Diagnostics.Stopwatch.GetTimestamp();
            returnUnreadWanted = false;
            finished += current;
            current = 1;
            readAhead = batch > 1 && buffer.Count < batch / 2 && demand is null && !ended;
            if (readAhead)
            {
                AdaptBatch(); // Reading straight through a batch is streaming: the next one may be larger.
                demand = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        if (readAhead)
        {
            // Top the batch up while this one is being read. It waits at the broker if the channel is empty, so that a
            // reader that catches up with its writer is not a stream of empty answers.
            client.Send(new ChannelFrame { Op = ChannelOp.Demand, Channel = Handle.Id, A = ReadBatch, Flag = true }, releaseCurrent: false);
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

    /// <summary>The reader came back for more: the item it read last is finished with.</summary>
    private bool MoveOn()
    {
        lock (gate)
        {
            returnUnreadWanted = false;
            finished += current;
            current = 0;
            return finished > 0;
        }
    }

    /// <summary>
    /// For the synchronous <c>TryRead</c>/<c>TryPeek</c>: asks the broker for what it has now. In a drain loop it does
    /// not wait for the answer (the loop's next <c>WaitToReadAsync</c> does); otherwise it waits, for at most
    /// <see cref="SyncWait"/>, blocking the calling thread.
    /// </summary>
    private bool FetchNow()
    {
        Task pending;
        bool wait;
        lock (gate)
        {
            if (ended || demand is not null)
            {
                return false; // Nothing will come, or a fetch is already on its way.
            }

            wait = !draining;
            AdaptBatch();
            demand = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            pending = demand.Task;
        }

        client.Send(new ChannelFrame { Op = ChannelOp.Demand, Channel = Handle.Id, A = ReadBatch, Flag = false }, releaseCurrent: false);
        return wait && pending.Wait(SyncWait);
    }

    /// <summary>For the synchronous <c>TryWrite</c>: asks for write slots, and waits for them unless it is in a stream of writes.</summary>
    private bool FetchCreditNow()
    {
        Task pending;
        bool wait;
        lock (gate)
        {
            if (writingClosed || creditRequest is not null)
            {
                return false;
            }

            wait = !writeStreak;
            writeStreak = false;
            creditRequest = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            pending = creditRequest.Task;
        }

        client.Send(new ChannelFrame { Op = ChannelOp.WantCredit, Channel = Handle.Id, A = CreditBatch, Flag = false }, releaseCurrent: false);
        return wait && pending.Wait(SyncWait);
    }

    private bool TakeWriteSlot(out bool closed)
    {
        lock (gate)
        {
            closed = writingClosed;
            if (closed)
            {
                return false;
            }

            if (IsUnbounded)
            {
                return true;
            }

            if (credits > 0)
            {
                credits--;
                writeStreak = true;
                return true;
            }

            return false;
        }
    }

    private static void CheckSize(byte[] item)
    {
        if (item.Length > ChannelFrame.MaxItemLength)
        {
            throw new NotShareableException(typeof(byte[]).FullName!, $"A channel item is {item.Length} bytes serialized; the limit is {ChannelFrame.MaxItemLength}.");
        }
    }

    private void SendWrite(byte[] item, long sequence)
    {
        client.Send(new ChannelFrame { Op = ChannelOp.Write, Channel = Handle.Id, A = sequence, Item = item }, releaseCurrent: true);
    }

    /// <summary>Waits for a fetch or a credit request; if cancelled, tells the broker to stop holding the request.</summary>
    private async Task WaitAsync(Task pending, CancellationToken cancellationToken)
    {
        try
        {
            await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // What the broker already sent still arrives and is kept for the next read.
            client.Send(new ChannelFrame { Op = ChannelOp.Withdraw, Channel = Handle.Id }, releaseCurrent: false);
            throw;
        }
    }
}
