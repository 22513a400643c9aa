namespace ProcIsolates.Channels.Broker;

/// <summary>A reader blocked until an item comes: a host <c>ReadAsync</c> (<see cref="Local"/>) or a worker's demand.</summary>
internal sealed class ReadWaiter(BrokerSession? session, int max, long request)
{
    public TaskCompletionSource<byte[]>? Local { get; } = session is null ? new(TaskCreationOptions.RunContinuationsAsynchronously) : null;

    public BrokerSession? Session { get; } = session;

    /// <summary>The most items the worker asked for.</summary>
    public int Max { get; } = max;

    /// <summary>The worker's number for its demand, echoed in the delivery that answers it.</summary>
    public long Request { get; } = request;

    public LinkedListNode<ReadWaiter>? Node { get; set; }
}
