using ProcIsolates.Protocol.Channels;

namespace ProcIsolates.Channels.Remote;

/// <summary>
/// Acknowledgements and returns: which items this end's reader has finished with (they ride on the next frame the
/// process sends), and what goes back to the broker when the code that used the end has finished.
/// </summary>
internal sealed partial class RemoteChannelCore
{
    private bool returnUnreadWanted;
    private bool returnCreditsWanted;

    /// <summary>Holds fetches back while unread items are on their way back (see <see cref="TakeBufferForReturn"/>).</summary>
    private TaskCompletionSource? returning;

    /// <summary>The item handed out last (1) or none (0): finished with when the reader comes back, or when the process writes.</summary>
    private int current;

    /// <summary>Items finished with and not yet acknowledged.</summary>
    private int finished;

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
            if (demand is null && poll is null)
            {
                unread = TakeBufferForReturn();
            }
            else
            {
                returnUnreadWanted = true; // A delivery is on its way: give it all back when it arrives.
            }

            if (creditRequest is null && creditPoll is null)
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
            demandRequest = 0;
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
}
