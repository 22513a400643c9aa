namespace ProcIsolates.Channels.Broker;

/// <summary>
/// Which channels nothing alive can reach. Channel ids are random, so only a process that was given a handle can name
/// a channel. A channel a worker created and never let out (no <c>Export</c> frame: no handle of it was serialized
/// there) is reachable by that worker alone; when that worker is gone, the channel is ended and its items freed
/// (spill files included), instead of being held until the host exits. A channel the host created or holds an end of,
/// or whose handle left its creator, is kept as before: the broker cannot see where handles travel inside data.
/// </summary>
internal sealed partial class BrokeredChannel
{
    private BrokerSession? creator;
    private bool shared;

    /// <summary>Whether a process other than its creator may hold this channel (or the host does).</summary>
    internal bool IsShared
    {
        get
        {
            lock (gate)
            {
                return shared;
            }
        }
    }

    /// <summary>A handle to this channel left its creator, or the host holds an end: it is never freed unread.</summary>
    public void MarkShared()
    {
        lock (gate)
        {
            shared = true;
            creator = null; // Not needed any more; nor is the session kept alive by it.
        }
    }

    /// <summary>Whether, with <paramref name="released"/> gone, no live process can reach this channel. Under the lock.</summary>
    private bool IsUnreachableAfter(BrokerSession released) =>
        !shared && !ended && ReferenceEquals(creator, released) && sessions.Count == 0;

    /// <summary>Ends a channel nobody can reach: closed for writing, its items and offers freed. Under the lock.</summary>
    private void Abandon()
    {
        creator = null;
        writingClosed = true;
        error ??= new InvalidOperationException("The channel ended with the worker that created it: no live process held a handle to it.");
        while (queue.First is { } first)
        {
            queue.RemoveFirst();
            ChannelItems.Discard(first.Value);
        }

        Exception closed = ChannelErrors.Closed(error);
        foreach (PendingWrite offer in pendingWrites)
        {
            ChannelItems.Discard(offer.Bytes);
            offer.Done(closed);
        }

        pendingWrites.Clear();
        Diagnostics.ProcIsolatesTelemetry.ChannelsAbandoned.Add(1);
        CheckEnded();
    }
}
