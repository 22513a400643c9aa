using System.IO.Pipelines;
using ProcIsolates.Protocol.Channels;

namespace ProcIsolates.Channels.Broker;

/// <summary>
/// The broker's side of one worker's channel-data stream: it carries out the worker's frames on the channels and
/// sends the answers back. When the worker goes away, <see cref="Close"/> gives back what it held.
/// </summary>
internal sealed class BrokerSession
{
    private readonly IDuplexPipe pipe;
    private readonly FrameOutput output;
    private readonly Action<string> onViolation;
    private readonly string spillTag;
    private readonly HashSet<BrokeredChannel> touched = [];
    private readonly HashSet<BrokeredChannel> written = [];
    private readonly Lock gate = new();
    private readonly Lock processing = new();
    private int closed;
    private long queuedBytes;
    private int overQueued;
    private volatile WorkerBudgets budgets = WorkerBudgets.Default;

    /// <summary>Starts serving a worker's channel-data stream.</summary>
    /// <param name="pipe">The stream.</param>
    /// <param name="onViolation">Called, once, if the worker breaks the protocol; the session is closed by then.</param>
    /// <param name="spillTag">The tag of the worker's spill files (see <see cref="Spill.SpillStore"/>).</param>
    public BrokerSession(IDuplexPipe pipe, Action<string> onViolation, string spillTag)
    {
        this.pipe = pipe;
        this.onViolation = onViolation;
        this.spillTag = spillTag;
        output = new FrameOutput(pipe.Output);
        Budgets = WorkerBudgets.Default;
        HostQueueBudget.Join(this);
        Reading = Task.Run(ReadAsync);
    }

    /// <summary>What the worker may make the host hold; set when a spare becomes an interpreter with its own options.</summary>
    public WorkerBudgets Budgets
    {
        get => budgets;
        set
        {
            budgets = value;
            output.Bound(value.MaxUnsentChannelBytes, unsent =>
                CutOff($"It left {unsent} bytes of channel data unread, more than InterpreterOptions.Budgets.MaxUnsentChannelBytes ({value.MaxUnsentChannelBytes})."));
        }
    }

    /// <summary>The channels created so far by this worker's interpreter, whichever of its workers created them (a spare counts its own until it is handed out).</summary>
    public ChannelsCreatedCount ChannelsCreated { get; set; } = new();

    /// <summary>Completes when the stream has ended and the session is closed.</summary>
    public Task Reading { get; }

    public void Send(ChannelFrame frame) => output.Send(frame);

    /// <summary>How many frames have been sent to the worker so far.</summary>
    public long SentFrames => output.SentFrames;

    /// <summary>Bytes of items this worker wrote that wait in channel queues now.</summary>
    public long QueuedBytes => Interlocked.Read(ref queuedBytes);

    /// <summary>
    /// Counts bytes of this worker's items into (or, negative, out of) channel queues; over
    /// <see cref="WorkerBudgets.MaxQueuedBytes"/> the worker is killed (on a pool thread: this runs under a channel's lock).
    /// </summary>
    public void Charge(long bytes)
    {
        long now = Interlocked.Add(ref queuedBytes, bytes);
        HostQueueBudget.Charge(this, bytes, static (largest, reason) => largest.CutOff(reason));
        long limit = budgets.MaxQueuedBytes;
        if (bytes > 0 && now > limit && Interlocked.Exchange(ref overQueued, 1) == 0)
        {
            ThreadPool.QueueUserWorkItem(_ => CutOff($"Its items waiting in channels reached {now} bytes, more than InterpreterOptions.Budgets.MaxQueuedBytes ({limit})."));
        }
    }

    /// <summary>Ends the session over a budget; the owner kills the worker and reports <paramref name="reason"/>.</summary>
    private void CutOff(string reason)
    {
        Close();
        onViolation(reason);
    }

    /// <summary>Remembers a channel this worker used, so that <see cref="Close"/> can release it.</summary>
    public void Track(BrokeredChannel channel)
    {
        lock (gate)
        {
            touched.Add(channel);
        }
    }

    /// <summary>The worker is gone: items in flight to it go back to their channels, its waits and reservations end. Idempotent.</summary>
    public void Close()
    {
        // Under the processing lock: a frame is carried out whole or not at all, so an acknowledgement and the
        // write it came with can never be split by the release.
        lock (processing)
        {
            if (Interlocked.Exchange(ref closed, 1) == 1)
            {
                return;
            }
        }

        output.Break();
        HostQueueBudget.Leave(this, QueuedBytes);
        BrokeredChannel[] channels;
        lock (gate)
        {
            channels = [.. touched];
            touched.Clear();
        }

        foreach (BrokeredChannel channel in channels)
        {
            channel.Release(this);
        }

        // Files the worker wrote whose items never reached a channel (it died before their frames were sent).
        Spill.SpillStore.DeleteOrphans(spillTag);
    }

    private async Task ReadAsync()
    {
        string? violation = null;
        try
        {
            await FrameInput.ReadAllAsync(pipe.Input, Handle, DeliverWritten).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ChannelProtocolException or OverflowException)
        {
            violation = "It broke the channel protocol: " + ex.Message;
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // The pipe went away with the worker.
        }
        finally
        {
            Close();
        }

        if (violation is not null)
        {
            onViolation(violation);
        }
    }

    /// <summary>
    /// After a run of frames: items this worker wrote reach waiting readers now, together, so that a reader chasing a
    /// fast writer gets them in one delivery rather than one by one.
    /// </summary>
    private void DeliverWritten()
    {
        lock (processing)
        {
            foreach (BrokeredChannel channel in written)
            {
                channel.DeliverPending();
            }

            written.Clear();
        }
    }

    private void Handle(ChannelFrame frame)
    {
        lock (processing)
        {
            if (Volatile.Read(ref closed) == 0)
            {
                Carry(frame);
            }
        }
    }

    private void Carry(ChannelFrame frame)
    {
        if (frame.Acks is { } acks)
        {
            for (int i = 0; i < acks.Count; i += 2)
            {
                if (ChannelBroker.TryFind(acks[i]) is { } acked)
                {
                    acked.Acknowledge(this, checked((int)acks[i + 1]));
                }
            }
        }

        if (frame.Op == ChannelOp.Create)
        {
            if (!ChannelsCreated.TryAdd(budgets.MaxChannelsCreated))
            {
                throw new ChannelProtocolException($"Its interpreter created more than InterpreterOptions.Budgets.MaxChannelsCreated ({budgets.MaxChannelsCreated}) channels.");
            }

            int? capacity = frame.A == ChannelHandle.Unbounded ? null : checked((int)frame.A);
            if (capacity is < 0)
            {
                throw new ChannelProtocolException($"A worker asked for a channel of capacity {frame.A}.");
            }

            BrokeredChannel created = ChannelBroker.Create(capacity, creator: this);
            created.Attach(this, 0);
            Send(new ChannelFrame { Op = ChannelOp.Created, Channel = created.Handle.Id, A = frame.Channel, B = created.Handle.Capacity });
            return;
        }

        if (frame.Op == ChannelOp.Ack)
        {
            return;
        }

        if (frame.Op == ChannelOp.Barrier)
        {
            Send(new ChannelFrame { Op = ChannelOp.BarrierReply, A = frame.A });
            return;
        }

        if (frame.Items is not null)
        {
            throw new ChannelProtocolException("Only the host delivers items.");
        }

        // A channel that has ended (or never existed) answers as an ended channel.
        BrokeredChannel channel = ChannelBroker.TryFind(frame.Channel) ?? ChannelBroker.Tombstone(frame.Channel, ChannelHandle.Unbounded);
        switch (frame.Op)
        {
            case ChannelOp.Attach:
                channel.Attach(this, frame.A);
                break;
            case ChannelOp.CompletionSeen:
                channel.CompletionSeen(this);
                break;
            case ChannelOp.Export:
                channel.MarkShared();
                break;
            case ChannelOp.Write:
                if (frame.Item is not { } item || item.Length > ChannelFrame.MaxItemLength)
                {
                    throw new ChannelProtocolException("A write frame carries no item, or one that is too large.");
                }

                byte[] bytes = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(item, out ArraySegment<byte> whole) && whole.Offset == 0 && whole.Count == whole.Array!.Length ? whole.Array : item.ToArray();
                if (Spill.SpilledItem.TryParse(bytes, out Spill.SpilledItem spilled))
                {
                    // A worker names only its own files, so it can neither read nor have the host delete another's.
                    if (spilled.Tag != spillTag)
                    {
                        throw new ChannelProtocolException($"A worker wrote a spilled item of file '{spilled.FileName}', which is not one of its own.");
                    }

                    Spill.SpillStore.Hold(spilled);
                }

                ItemQueue.WrittenBy(bytes, this);
                written.Add(channel);
                try
                {
                    channel.Write(this, frame.A, bytes);
                }
                catch (ChannelProtocolException)
                {
                    ChannelItems.Discard(bytes); // Refused along with the worker.
                    throw;
                }

                break;
            case ChannelOp.Demand:
                channel.Demand(this, (int)Math.Clamp(frame.A, 1, 4096), frame.Flag, frame.B);
                break;
            case ChannelOp.WantCredit:
                channel.WantCredit(this, (int)Math.Clamp(frame.A, 1, 4096), frame.Flag, frame.B);
                break;
            case ChannelOp.Complete:
                channel.TryComplete(ChannelErrors.FromRemote(frame.ErrorType, frame.ErrorMessage));
                break;
            case ChannelOp.Count:
                channel.SendCount(this, frame.A);
                break;
            case ChannelOp.Withdraw:
                channel.Withdraw(this);
                break;
            case ChannelOp.Retract:
                channel.Retract(this, frame.A);
                break;
            case ChannelOp.ReturnUnread:
                channel.ReturnUnread(this, checked((int)frame.A));
                break;
            case ChannelOp.ReturnCredit:
                channel.ReturnCredit(this, checked((int)frame.A));
                break;
            default:
                throw new ChannelProtocolException($"A worker sent {frame.Op}, which only the host sends.");
        }
    }
}
