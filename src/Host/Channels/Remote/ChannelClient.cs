using System.Collections.Concurrent;
using System.IO.Pipelines;
using ProcIsolates.Protocol.Channels;
using ProcIsolates.Worker;

namespace ProcIsolates.Channels.Remote;

/// <summary>
/// A worker's side of its channel-data stream: one per worker process, shared by every channel end in it. It also
/// keeps the acknowledgements of items this process's readers have finished with, and puts them on the next frame
/// it sends, so that an item a reader forwarded is never delivered again.
/// </summary>
internal sealed class ChannelClient
{
    private static readonly TimeSpan BarrierTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The longest a new end waits for the broker's answer to its attach, or a call for the frames before it.</summary>
    private static readonly TimeSpan AttachTimeout = TimeSpan.FromSeconds(30);

    private static readonly Lazy<ChannelClient> Current = new(() => new ChannelClient(
        WorkerContext.ChannelData ?? throw new InvalidOperationException("This worker has no channel connection to its host."), installOperationHook: true));

    private readonly FrameOutput output;
    private readonly ConcurrentDictionary<long, RemoteChannelCore> cores = new();
    private readonly ConcurrentDictionary<long, TaskCompletionSource<long>> requests = new();
    private readonly ConcurrentDictionary<long, byte> exported = new();
    private readonly Lock sendGate = new();
    private readonly Lock handledGate = new();
    private long lastRequest;
    private volatile bool hostGone;
    private int sentSinceBarrier;
    private long handled;
    private TaskCompletionSource? handledWaiter;
    private long handledWanted;

    /// <summary>Serves one channel-data stream; a worker has one (<see cref="Instance"/>), tests make their own.</summary>
    /// <param name="pipe">The stream to the host's broker.</param>
    /// <param name="installOperationHook">Whether the end of each call in this process releases what its code held.</param>
    internal ChannelClient(IDuplexPipe pipe, bool installOperationHook = false)
    {
        output = new FrameOutput(pipe.Output);
        _ = Task.Run(() => ReadAsync(pipe.Input));

        if (installOperationHook)
        {
            // When a call ends, what its code read is finished with, and what it fetched or reserved and did not use goes back.
            WorkerContext.OperationEnded = ReleaseAfterOperation;
            WorkerContext.ChannelFramesArrived = WaitForFramesAsync;
        }
    }

    public static ChannelClient Instance => Current.Value;

    /// <summary>
    /// The end of a channel in this process. On first use it attaches to the broker and waits for the broker's answer,
    /// so that an end arriving after its channel was completed knows it before its first read, write or completion.
    /// </summary>
    public RemoteChannelCore GetCore(ChannelHandle handle)
    {
        if (!cores.TryGetValue(handle.Id, out RemoteChannelCore? core))
        {
            RemoteChannelCore created = new(this, handle with { Kind = ChannelEndKind.Channel }, created: false);
            core = cores.GetOrAdd(handle.Id, created);
            if (ReferenceEquals(core, created))
            {
                Send(new ChannelFrame { Op = ChannelOp.Attach, Channel = handle.Id, A = NextRequest() }, releaseCurrent: false);
                if (hostGone)
                {
                    core.HostGone();
                }
            }
        }

        if (!core.WhenAttached.IsCompleted && !core.WhenAttached.Wait(AttachTimeout))
        {
            throw new InterpreterException($"The host did not answer for channel {handle.Id:x} within {AttachTimeout.TotalSeconds:0} s.");
        }

        return core;
    }

    /// <summary>
    /// Tells the broker, once per channel, that a handle to it is leaving this process. The frame goes before the bytes
    /// that carry the handle: on this stream ahead of an item, and ahead of the end-of-call barrier for a call's result.
    /// </summary>
    public void Export(long channel)
    {
        // Marked only once the frame is queued, so that no thread can send the handle ahead of it (a second Export is harmless).
        if (!exported.ContainsKey(channel))
        {
            Send(new ChannelFrame { Op = ChannelOp.Export, Channel = channel }, releaseCurrent: false);
            exported.TryAdd(channel, 0);
        }
    }

    /// <summary>A new number for a request the host answers (by echoing it).</summary>
    public long NextRequest() => Interlocked.Increment(ref lastRequest);

    /// <summary>
    /// Completes once this process has handled <paramref name="count"/> frames from the host. A call carries the count
    /// the host had sent when it sent the call, so the call's code sees every channel news that came before it (a
    /// completion, say), although the call travels on another connection.
    /// </summary>
    public ValueTask WaitForFramesAsync(long count)
    {
        lock (handledGate)
        {
            if (handled >= count || hostGone)
            {
                return ValueTask.CompletedTask;
            }

            handledWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            handledWanted = Math.Max(handledWanted, count);
            return new ValueTask(handledWaiter.Task.WaitAsync(AttachTimeout).ContinueWith(static _ => { }, TaskScheduler.Default));
        }
    }

    /// <summary>Asks the host's broker for a new channel.</summary>
    public RemoteChannelCore Create(int? capacity)
    {
        TaskCompletionSource<long> reply = NewRequest(out long request);
        Send(new ChannelFrame { Op = ChannelOp.Create, Channel = request, A = capacity ?? ChannelHandle.Unbounded }, releaseCurrent: false);
        long id = Await(request, reply);
        var core = new RemoteChannelCore(this, new ChannelHandle(id, capacity ?? ChannelHandle.Unbounded, ChannelEndKind.Channel), created: true);
        return cores.GetOrAdd(id, core);
    }

    /// <summary>Sends a request and waits for the number that answers it (a count).</summary>
    public long Request(long channel, ChannelOp op)
    {
        TaskCompletionSource<long> reply = NewRequest(out long request);
        Send(new ChannelFrame { Op = op, Channel = channel, A = request }, releaseCurrent: false);
        return Await(request, reply);
    }

    /// <summary>Registers a request whose answer (a number) the reading loop hands back by request number.</summary>
    private TaskCompletionSource<long> NewRequest(out long request)
    {
        request = NextRequest();
        var reply = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        requests[request] = reply;
        return reply;
    }

    private long Await(long request, TaskCompletionSource<long> reply)
    {
        if (hostGone && requests.TryRemove(request, out _))
        {
            throw new InterpreterException("The connection to the host has ended.");
        }

        return reply.Task.GetAwaiter().GetResult();
    }

    /// <summary>
    /// Sends a frame with every pending acknowledgement. <paramref name="releaseCurrent"/> also acknowledges the item
    /// each reader handed out last: a write may be that item going on, so the two must travel together.
    /// </summary>
    /// <returns>The frame's number, for <see cref="WhenWrittenAsync"/>.</returns>
    public long Send(ChannelFrame frame, bool releaseCurrent) => Send(frame, releaseCurrent, writeHere: false);

    /// <summary>Sends a frame (releasing the current operation's acknowledgements), writing it on this thread if no write is under way.</summary>
    /// <returns>The frame's number, for <see cref="WhenWrittenAsync"/>.</returns>
    public long SendWritingHere(ChannelFrame frame) => Send(frame, releaseCurrent: true, writeHere: true);

    private long Send(ChannelFrame frame, bool releaseCurrent, bool writeHere)
    {
        long number;
        bool startHere;
        lock (sendGate)
        {
            List<long>? acks = null;
            foreach (RemoteChannelCore core in cores.Values)
            {
                int count = core.TakeAcknowledgements(releaseCurrent);
                if (count > 0)
                {
                    (acks ??= []).Add(core.Handle.Id);
                    acks.Add(count);
                }
            }

            frame.Acks = acks;
            number = output.Enqueue(frame, writeHere, out startHere);
            sentSinceBarrier = 1;
        }

        if (startHere)
        {
            output.WriteHere();
        }

        return number;
    }

    /// <summary>Completes when frame <paramref name="frame"/> is in the connection (the host reads it even if this process dies next).</summary>
    public Task WhenWrittenAsync(long frame) => output.WhenWrittenAsync(frame);

    private async Task ReleaseAfterOperation()
    {
        foreach (RemoteChannelCore core in cores.Values)
        {
            core.ReleaseUnused();
        }

        if (cores.Values.Any(core => core.HasUnacknowledged))
        {
            Send(new ChannelFrame { Op = ChannelOp.Ack }, releaseCurrent: true);
        }

        if (Interlocked.Exchange(ref sentSinceBarrier, 0) == 0)
        {
            return; // This call sent nothing on a channel.
        }

        // A barrier: once the host answers it, every frame above (a TryWrite's item, say) is in the broker, so the
        // call's reply cannot overtake them and, for instance, have the host complete a channel before they arrive.
        TaskCompletionSource<long> reply = NewRequest(out long request);
        Send(new ChannelFrame { Op = ChannelOp.Barrier, A = request }, releaseCurrent: false);
        Interlocked.Exchange(ref sentSinceBarrier, 0);
        if (!hostGone)
        {
            try
            {
                await reply.Task.WaitAsync(BarrierTimeout).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is TimeoutException or InterpreterException)
            {
                // The host is gone or stuck; the reply goes out anyway, and the worker exits with its host.
            }
        }
    }

    private async Task ReadAsync(PipeReader input)
    {
        try
        {
            await FrameInput.ReadAllAsync(input, Handle).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or ChannelProtocolException or InvalidOperationException)
        {
            // The host is gone; the worker exits on its own.
        }

        hostGone = true;
        output.Break();
        foreach (RemoteChannelCore core in cores.Values)
        {
            core.HostGone();
        }

        foreach (TaskCompletionSource<long> request in requests.Values)
        {
            request.TrySetException(new InterpreterException("The connection to the host has ended."));
        }

        lock (handledGate)
        {
            handledWaiter?.TrySetResult();
            handledWaiter = null;
        }
    }

    private void Handle(ChannelFrame frame)
    {
        HandleOne(frame);
        lock (handledGate)
        {
            handled++;
            if (handledWaiter is not null && handled >= handledWanted)
            {
                handledWaiter.TrySetResult();
                handledWaiter = null;
            }
        }
    }

    private void HandleOne(ChannelFrame frame)
    {
        switch (frame.Op)
        {
            case ChannelOp.CountReply:
                if (requests.TryRemove(frame.A, out TaskCompletionSource<long>? count))
                {
                    count.TrySetResult(frame.B);
                }

                break;
            case ChannelOp.BarrierReply:
                if (requests.TryRemove(frame.A, out TaskCompletionSource<long>? barrier))
                {
                    barrier.TrySetResult(0);
                }

                break;
            case ChannelOp.Created:
                if (requests.TryRemove(frame.A, out TaskCompletionSource<long>? created))
                {
                    created.TrySetResult(frame.Channel);
                }

                break;
            default:
                if (cores.TryGetValue(frame.Channel, out RemoteChannelCore? core))
                {
                    core.Receive(frame);
                }

                break;
        }
    }
}
