using ProcIsolates.Protocol.Channels;

namespace ProcIsolates.Channels.Remote;

/// <summary>The frames the broker sends about this channel: deliveries, grants, confirmations, completion.</summary>
internal sealed partial class RemoteChannelCore
{
    public void Receive(ChannelFrame frame)
    {
        if (frame.Items is { Count: > 0 } delivered)
        {
            Spill.SpillStore.OpenDelivered(delivered);
        }

        var wake = new List<TaskCompletionSource>(2);
        bool nowEnded = false;
        bool completed = false;
        int unread = 0;
        int unusedCredits = 0;
        lock (gate)
        {
            switch (frame.Op)
            {
                case ChannelOp.Attached:
                    if (frame.Flag)
                    {
                        writingClosed = true;
                        closeError ??= ChannelErrors.FromFrame(frame);
                    }

                    if (frame.B == 1)
                    {
                        nowEnded = EndLocked(ChannelErrors.FromFrame(frame));
                    }

                    attached.TrySetResult();
                    break;
                case ChannelOp.Deliver:
                    foreach (byte[] item in frame.Items ?? [])
                    {
                        buffer.Enqueue(item);
                    }

                    if (frame.Flag)
                    {
                        nowEnded = EndLocked(ChannelErrors.FromFrame(frame));
                    }

                    // The answer to the poll or to the waiting fetch, by number; the other, if out, is still to come.
                    if (poll is not null && frame.B == pollRequest)
                    {
                        wake.Add(poll);
                        poll = null;
                    }
                    else if (demand is not null && frame.B == demandRequest)
                    {
                        wake.Add(demand);
                        demand = null;
                    }

                    if (returnUnreadWanted && poll is null && demand is null)
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

                    if (creditPoll is not null && frame.B == creditPollNumber)
                    {
                        wake.Add(creditPoll);
                        creditPoll = null;
                    }
                    else if (creditRequest is not null && frame.B == creditRequestNumber)
                    {
                        wake.Add(creditRequest);
                        creditRequest = null;
                    }

                    if (returnCreditsWanted && creditPoll is null && creditRequest is null)
                    {
                        returnCreditsWanted = false;
                        unusedCredits = credits;
                        credits = 0;
                    }

                    break;
                case ChannelOp.Completed:
                    writingClosed = true;
                    closeError ??= ChannelErrors.FromFrame(frame);
                    completed = true;
                    if (frame.Flag)
                    {
                        nowEnded = EndLocked(ChannelErrors.FromFrame(frame));
                    }

                    // Writers waiting for a slot learn the channel is closed; the broker answers their requests too.
                    if (creditRequest is not null)
                    {
                        wake.Add(creditRequest);
                        creditRequest = null;
                    }

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

        if (completed)
        {
            OnCompleted();
        }

        SendReturns(unread, unusedCredits);
        foreach (TaskCompletionSource waiter in wake)
        {
            waiter.TrySetResult();
        }

        if (nowEnded)
        {
            CompleteCompletion();
        }
    }
}
