using System.Collections.Concurrent;
using ProcIsolates.Protocol.Channels;

namespace ProcIsolates.Channels.Remote;

/// <summary>
/// A channel as a worker sees it: its reads and writes go to the host's broker over the <see cref="ChannelClient"/>.
/// A reader fetches items in batches when it waits (and tops its batch up while it reads), and a writer of a bounded
/// or rendezvous channel holds slots the broker reserved for it, so that a stream of items is not a stream of round trips.
/// </summary>
/// <remarks>
/// Split by concern: reading (<c>RemoteChannelCore.Reading.cs</c>), writing (<c>.Writing.cs</c>), acknowledgements and
/// returns (<c>.Acknowledgements.cs</c>), and the frames the host sends (<c>.FromHost.cs</c>). One lock guards it all.
/// </remarks>
internal sealed partial class RemoteChannelCore : IChannelCore
{
    /// <summary>The longest a synchronous member waits for the broker; a starved thread pool must not turn it into a hang.</summary>
    private static readonly TimeSpan SyncWait = TimeSpan.FromSeconds(5);

    private readonly ChannelClient client;
    private readonly Lock gate = new();
    private readonly ConcurrentDictionary<long, TaskCompletionSource> confirms = new();
    private readonly TaskCompletionSource completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource attached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool ended;
    private Exception? endError;
    private bool writingClosed;
    private Exception? closeError;

    public RemoteChannelCore(ChannelClient client, ChannelHandle handle, bool created)
    {
        this.client = client;
        Handle = handle;
        if (created)
        {
            attached.TrySetResult(); // This process made it: it starts open, and nobody else has it yet.
        }
    }

    public ChannelHandle Handle { get; }

    /// <summary>Completes once the broker has told this end the state it starts from (see <see cref="ChannelOp.Attached"/>).</summary>
    public Task WhenAttached => attached.Task;

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

    /// <summary>The host connection ended: nothing more will come.</summary>
    public void HostGone()
    {
        var gone = new InterpreterException("The connection to the host has ended.");
        TaskCompletionSource? waitingRead;
        TaskCompletionSource? waitingCredit;
        TaskCompletionSource? polling;
        TaskCompletionSource? pollingCredit;
        lock (gate)
        {
            writingClosed = true;
            closeError ??= gone;
            EndLocked(gone);
            waitingRead = demand;
            waitingCredit = creditRequest;
            polling = poll;
            pollingCredit = creditPoll;
            demand = creditRequest = poll = creditPoll = null;
        }

        waitingRead?.TrySetResult();
        waitingCredit?.TrySetResult();
        polling?.TrySetResult();
        pollingCredit?.TrySetResult();
        attached.TrySetResult();
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
        else if (error is OperationCanceledException canceled)
        {
            completion.TrySetCanceled(canceled.CancellationToken); // As .NET's channels do.
        }
        else
        {
            completion.TrySetException(error);
        }
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

    /// <summary>Blocks for a synchronous member's answer from the broker, for at most <see cref="SyncWait"/>.</summary>
    private static bool WaitSync(Task pending) => pending.Wait(SyncWait);
}
