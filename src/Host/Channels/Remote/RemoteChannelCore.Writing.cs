using System.Threading.Channels;
using ProcIsolates.Protocol.Channels;

namespace ProcIsolates.Channels.Remote;

/// <summary>Writing: write slots from the broker, writes, and completion.</summary>
internal sealed partial class RemoteChannelCore
{
    private int credits;

    /// <summary>A request for write slots that waits at the broker for one (<c>WaitToWriteAsync</c>), and its number.</summary>
    private TaskCompletionSource? creditRequest;
    private long creditRequestNumber;

    /// <summary>A request for write slots that the broker answers at once (<c>TryWrite</c>), and its number.</summary>
    private TaskCompletionSource? creditPoll;
    private long creditPollNumber;

    private long lastSequence;

    /// <summary>Writes that passed the "still open" check and are being sent; see <see cref="OnCompleted"/>.</summary>
    private int writesSending;

    /// <summary>The completion was seen while writes were being sent: the last of them tells the broker.</summary>
    private bool completionSeenOwed;

    /// <summary>
    /// Write slots asked for at a time: a quarter of the capacity, so that four writers can share a full channel, and at
    /// most as many as a read batch. Each batch costs the writer a round trip to the broker, which is what bounds a
    /// bounded channel's rate (with 64 at most, capacity 1,024 moved half the items/s of an unbounded channel).
    /// </summary>
    private int CreditBatch => Handle.Capacity <= 0 ? 1 : Math.Clamp(Handle.Capacity / 4, 1, MaxBatch);

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

        // The slots this brings stay in this process, for the TryWrite that follows.
        PollCreditNow();
        lock (gate)
        {
            return !writingClosed && credits > 0;
        }
    }

    /// <summary>Writes if the channel is open and, when bounded, a slot is held or the broker grants one now (a round trip).</summary>
    public bool TryWrite(byte[] item)
    {
        CheckSize(item);
        if (!BeginWrite(out bool closed))
        {
            if (closed || !PollCreditNow() || !BeginWrite(out _))
            {
                return false;
            }
        }

        SendWrite(item, 0);
        return true;
    }

    public ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<bool>(cancellationToken) : WaitToWriteCoreAsync(cancellationToken);

    private async ValueTask<bool> WaitToWriteCoreAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task pending;
            long request = 0;
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
                    request = creditRequestNumber = client.NextRequest();
                }

                pending = creditRequest.Task;
            }

            if (request != 0)
            {
                client.Send(new ChannelFrame { Op = ChannelOp.WantCredit, Channel = Handle.Id, A = CreditBatch, B = request, Flag = true }, releaseCurrent: false);
            }

            await WaitAsync(pending, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask WriteAsync(byte[] item, CancellationToken cancellationToken)
    {
        CheckSize(item);
        cancellationToken.ThrowIfCancellationRequested(); // As .NET's channels: a cancelled write writes nothing.

        // A rendezvous write is offered without a slot (using one if it holds one) and confirmed when a reader takes it.
        bool begun;
        bool closed;
        while (!(begun = BeginWrite(out closed)) && !closed && Handle.Capacity != 0)
        {
            bool more;
            try
            {
                more = await WaitToWriteAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                throw ChannelErrors.Closed(ex);
            }

            if (!more)
            {
                closed = true;
                break;
            }
        }

        if (!begun && !closed)
        {
            closed = !BeginOffer(); // A rendezvous offer without a slot.
        }

        if (closed)
        {
            lock (gate)
            {
                throw ChannelErrors.Closed(closeError);
            }
        }

        if (Handle.Capacity != 0)
        {
            // With the channel open and a slot held (none needed when unbounded) the broker takes the item as it
            // arrives, even past a completion it has not yet told this process about (see BeginWrite). So the write has
            // happened once its frame is in the connection: the host reads it even if this process dies next. A write
            // that happened must not report a cancellation, so this waits without the token.
            Task written = client.WhenWrittenAsync(SendWrite(item, 0, writeHere: true));
            try
            {
                await written.ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                throw new ChannelClosedException("The connection to the host broke before the item reached it.", ex);
            }

            return;
        }

        long sequence = Interlocked.Increment(ref lastSequence);
        var confirmed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        confirms[sequence] = confirmed;
        SendWrite(item, sequence);

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

    /// <summary>
    /// Under the lock, checks that the channel is open and takes a write slot (none needed when unbounded); on success
    /// the write counts as being sent until <see cref="SendWrite"/> has put it on the stream. A completion seen
    /// meanwhile is reported to the broker after it, so the broker knows every such write was sent before this
    /// process knew of the completion, and takes it.
    /// </summary>
    private bool BeginWrite(out bool closed)
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
                writesSending++;
                return true;
            }

            if (credits > 0)
            {
                credits--;
                writesSending++;
                return true;
            }

            return false;
        }
    }

    private bool BeginOffer()
    {
        lock (gate)
        {
            if (writingClosed)
            {
                return false;
            }

            writesSending++;
            return true;
        }
    }

    private long SendWrite(byte[] item, long sequence, bool writeHere = false)
    {
        try
        {
            var frame = new ChannelFrame { Op = ChannelOp.Write, Channel = Handle.Id, A = sequence, Item = item };
            return writeHere ? client.SendWritingHere(frame) : client.Send(frame, releaseCurrent: true);
        }
        finally
        {
            bool tell;
            lock (gate)
            {
                writesSending--;
                tell = writesSending == 0 && completionSeenOwed;
                completionSeenOwed &= !tell;
            }

            if (tell)
            {
                SendCompletionSeen();
            }
        }
    }

    /// <summary>The broker said the channel was completed: no write starts from here on; the broker hears so after the last one sent.</summary>
    private void OnCompleted()
    {
        bool tell;
        lock (gate)
        {
            tell = writesSending == 0;
            completionSeenOwed = !tell;
        }

        if (tell)
        {
            SendCompletionSeen();
        }
    }

    private void SendCompletionSeen() =>
        client.Send(new ChannelFrame { Op = ChannelOp.CompletionSeen, Channel = Handle.Id }, releaseCurrent: false);

    /// <summary>
    /// For the synchronous <c>TryWrite</c>: asks for write slots and waits for the answer (at most
    /// <see cref="SyncWait"/>). A request already waiting at the broker is answered only when a slot frees, so this
    /// is a request of its own; when its answer is here, so is any grant sent before it.
    /// </summary>
    private bool PollCreditNow()
    {
        while (true)
        {
            Task pending;
            long request = 0;
            lock (gate)
            {
                if (writingClosed)
                {
                    return false;
                }

                if (credits > 0)
                {
                    return true;
                }

                if (creditPoll is not null)
                {
                    pending = creditPoll.Task;
                }
                else
                {
                    creditPoll = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    request = creditPollNumber = client.NextRequest();
                    pending = creditPoll.Task;
                }
            }

            if (request != 0)
            {
                client.Send(new ChannelFrame { Op = ChannelOp.WantCredit, Channel = Handle.Id, A = CreditBatch, B = request, Flag = false }, releaseCurrent: false);
                return WaitSync(pending);
            }

            if (!WaitSync(pending))
            {
                return false;
            }
        }
    }

    private static void CheckSize(byte[] item)
    {
        if (item.Length > ChannelFrame.MaxItemLength)
        {
            throw new NotShareableException(typeof(byte[]).FullName!, $"A channel item is {item.Length} bytes serialized; the limit is {ChannelFrame.MaxItemLength}.");
        }
    }
}
