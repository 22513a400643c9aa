using System.Threading.Channels;
using ProcIsolates.Protocol.Channels;

namespace ProcIsolates.Channels.Broker;

/// <summary>Channel operations that workers ask for through their <see cref="BrokerSession"/>.</summary>
internal sealed partial class BrokeredChannel
{
    /// <summary>
    /// A worker's process takes up an end of this channel: it is answered with the state the end starts from, so that
    /// an end arriving after a completion knows it before its first use.
    /// </summary>
    public void Attach(BrokerSession session, long request)
    {
        lock (gate)
        {
            StateOf(session);
            if (request == 0)
            {
                return; // The worker created the channel: it knows it is open.
            }

            session.Send(new ChannelFrame
            {
                Op = ChannelOp.Attached,
                Channel = Handle.Id,
                A = request,
                B = ended ? 1 : 0,
                Flag = writingClosed,
                ErrorType = writingClosed ? ChannelErrors.TypeName(error) : null,
                ErrorMessage = writingClosed ? ChannelErrors.Message(error) : null,
            });
        }
    }

    /// <summary>The worker has seen this channel's completion: nothing more it writes is on its way.</summary>
    public void CompletionSeen(BrokerSession session)
    {
        lock (gate)
        {
            if (sessions.TryGetValue(session, out SessionState? state) && state.CompletionUnseen)
            {
                state.CompletionUnseen = false;
                CheckEnded();
            }
        }
    }

    public void Write(BrokerSession session, long sequence, byte[] item)
    {
        lock (gate)
        {
            SessionState state = StateOf(session);
            if (writingClosed && state.CompletionUnseen)
            {
                // Sent before the worker knew of the completion: as in one process, it happened before the completion.
                TakeBeforeCompletion(state, sequence, item, session);
                return;
            }

            if (writingClosed)
            {
                if (sequence != 0)
                {
                    session.Send(new ChannelFrame { Op = ChannelOp.Confirm, Channel = Handle.Id, A = sequence, ErrorType = typeof(ChannelClosedException).FullName, ErrorMessage = "The channel was completed before the item arrived." });
                }

                ChannelItems.Discard(item);
                return; // A write that crossed a Complete from another process: dropped (confirmed as refused if asked).
            }

            if (!UseWriteSlot(state) && IsRendezvous && state.PendingOffers >= MaxPendingOffers)
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
                // An offer holds host memory until a reader takes it, so it counts in its writer's budget meanwhile.
                long charged = Spill.SpilledItem.CarriedLength(item);
                session.Charge(charged);
                state.PendingOffers++;
                pendingWrites.AddLast(new PendingWrite(item, session, failure =>
                {
                    state.PendingOffers--;
                    session.Charge(-charged);
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

    /// <summary>
    /// A write that left its worker before the worker learned of the completion. Its slot, if it used one, was held for
    /// it; a rendezvous offer goes to a waiting reader or into the queue, since the completion refused the offers
    /// waiting then and nothing but readers remain.
    /// </summary>
    private void TakeBeforeCompletion(SessionState state, long sequence, byte[] item, BrokerSession session)
    {
        UseWriteSlot(state);
        Entered();
        if (!HandToBlockedReader(item))
        {
            queue.AddLast(item);
        }

        if (sequence != 0)
        {
            session.Send(ConfirmFrame(sequence, null));
        }

        Pump();
    }

    /// <summary>
    /// A worker's write uses one of its write slots if it holds any (returns whether it did). A bounded write must
    /// have one: our client always holds a slot for it, so one without is a worker ignoring backpressure.
    /// </summary>
    private bool UseWriteSlot(SessionState state)
    {
        if (state.Credits > 0)
        {
            state.Credits--;
            if (IsBounded)
            {
                reserved--;
            }

            return true;
        }

        return IsBounded
            ? throw new ChannelProtocolException($"A worker wrote to bounded channel {Handle.Id} without a write slot.")
            : false;
    }

    public void Demand(BrokerSession session, int max, bool wait, long request)
    {
        lock (gate)
        {
            StateOf(session);
            if (HasItems)
            {
                Deliver(session, Math.Max(1, max), request);
            }
            else if (ended)
            {
                session.Send(DeliverFrame([], ended: true, request));
            }
            else if (wait)
            {
                var reader = new ReadWaiter(session, Math.Max(1, max), request);
                reader.Node = blockedReaders.AddLast(reader);
            }
            else
            {
                session.Send(DeliverFrame([], ended: false, request));
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
                ChannelItems.Discard(state.InFlight.First); // Read for good: a spilled item's file goes.
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
                queue.AddFirst(state.InFlight.Last);
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

    public void WantCredit(BrokerSession session, int wanted, bool wait, long request)
    {
        lock (gate)
        {
            SessionState state = StateOf(session);
            if (writingClosed)
            {
                session.Send(CreditFrame(0, request));
                return;
            }

            int granted = Grantable(Math.Max(1, wanted));
            if (granted > 0)
            {
                Grant(state, session, granted, request);
            }
            else if (wait)
            {
                creditRequests.AddLast(new CreditRequest(session, Math.Max(1, wanted), request));
            }
            else
            {
                session.Send(CreditFrame(0, request));
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
                    session.Charge(-Spill.SpilledItem.CarriedLength(node.Value.Bytes));
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
                    session.Send(DeliverFrame([], ended: false, node.Value.Request));
                }

                node = next;
            }

            for (LinkedListNode<CreditRequest>? node = creditRequests.First; node is not null;)
            {
                LinkedListNode<CreditRequest>? next = node.Next;
                if (node.Value.Session == session)
                {
                    creditRequests.Remove(node);
                    session.Send(CreditFrame(0, node.Value.Request));
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

            inFlight -= state.InFlight.Count;
            foreach (byte[] item in state.InFlight.TakeAllNewestFirst())
            {
                queue.AddFirst(item); // Back to the head, in their original order.
            }

            if (IsBounded)
            {
                reserved -= state.Credits;
            }

            RemoveWhere(blockedReaders, r => r.Session == session);
            RemoveWhere(creditRequests, r => r.Session == session);
            if (IsUnreachableAfter(session))
            {
                Abandon();
            }

            Pump();
        }
    }
}
